// Linux namespaces from the spec: which to create at clone time, which to join
// by path, and the user namespace id mappings.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/oci/runtime_spec.h"
#include "common/unique_fd.h"

namespace berth::oci {

// CLONE_NEW* flag for a spec namespace type ("network" -> CLONE_NEWNET).
absl::StatusOr<int> NamespaceFlag(const std::string& type);

struct NamespacePlan {
  int clone_flags = 0;    // namespaces created by clone() (no path given)
  bool new_time = false;  // the time namespace is unshared in the init before exec
  bool new_user = false;
  struct Join {
    int flag;
    std::string type;
    UniqueFd fd;
  };
  std::vector<Join> joins;  // opened before clone, joined by the init (user first)
  bool has_mount_ns = false;
  bool has_uts_ns = false;
  bool has_pid_ns = false;  // new or joined
};

// Validates the namespace list (no duplicates, known types, paths that are
// namespaces of the right type) and opens the paths to join.
absl::StatusOr<NamespacePlan> PlanNamespaces(const Linux& linux);

// In the init: setns() into every joined namespace, the user namespace first.
// The pid namespace is joined by the parent before clone (it only applies to children).
absl::Status JoinNamespaces(NamespacePlan& plan, bool skip_pid);

// Writes /proc/<pid>/{uid_map,setgroups,gid_map} for a new user namespace.
absl::Status WriteIdMappings(pid_t pid, const Linux& linux);

}  // namespace berth::oci
