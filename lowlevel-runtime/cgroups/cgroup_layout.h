// Where the host's cgroup hierarchies are: parsed from /proc/self/mountinfo and
// /proc/self/cgroup, and how a spec's linux.cgroupsPath maps onto each of them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth::oci {

enum class CgroupMode {
  kV1,      // only cgroup v1 hierarchies
  kV2,      // /sys/fs/cgroup is cgroup2: everything on the unified hierarchy
  kHybrid,  // v1 controllers plus a cgroup2 mount (systemd's /sys/fs/cgroup/unified)
};

absl::string_view CgroupModeName(CgroupMode mode);

// One mounted hierarchy.
struct CgroupHierarchy {
  std::string mount_point;  // "/sys/fs/cgroup/memory"
  std::string root;         // mountinfo's root field: the cgroup mounted there, "/" usually
  // v1: the controllers bound to it, as the kernel names them ("cpu", "cpuacct",
  // "name=systemd"); several when co-mounted. Empty for the unified hierarchy.
  std::vector<std::string> controllers;
  // The calling process's cgroup in this hierarchy, from /proc/self/cgroup ("/"
  // when the hierarchy is not listed there).
  std::string own_cgroup = "/";

  bool Has(absl::string_view controller) const;
  // "cpu,cpuacct"; "unified" for cgroup2.
  std::string Name() const;
};

struct CgroupLayout {
  CgroupMode mode = CgroupMode::kV2;
  // v1 hierarchies with at least one known controller, or name=systemd.
  std::vector<CgroupHierarchy> v1;
  // The cgroup2 mount (kV2 and kHybrid).
  std::optional<CgroupHierarchy> unified;

  // The v1 hierarchy `controller` is bound to, or nullptr.
  const CgroupHierarchy* FindV1(absl::string_view controller) const;
};

// Pure parsing of the two /proc files' text.
absl::StatusOr<CgroupLayout> ParseCgroupLayout(absl::string_view mountinfo,
                                               absl::string_view proc_self_cgroup);
// Reads /proc/self/mountinfo and /proc/self/cgroup.
absl::StatusOr<CgroupLayout> ReadCgroupLayout();

// Validates and normalizes linux.cgroupsPath: "" becomes "/berth-oci/<id>";
// "." and ".." components are resolved lexically and must not climb above the
// start; the result names a cgroup below the base ("/" alone is refused). An
// absolute result starts with "/", a relative one does not. Systemd's
// "slice:prefix:name" form is refused (needs --systemd-cgroup).
absl::StatusOr<std::string> CleanCgroupsPath(absl::string_view cgroups_path,
                                             absl::string_view container_id);

// The cgroup's directory in `hierarchy` for a CleanCgroupsPath result: absolute
// paths are taken from the mount's root, relative ones from the caller's own
// cgroup there.
std::string CgroupDirIn(const CgroupHierarchy& hierarchy, absl::string_view clean_path);

}  // namespace berth::oci
