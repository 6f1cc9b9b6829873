// Resource statistics and OOM notifications of a container's cgroup, on v1 and
// v2 (and both at once on hybrid hosts), in the shape of runc's `events` data.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json.h"
#include "common/unique_fd.h"
#include "lowlevel-runtime/cgroups/cgroup.h"

namespace berth::oci {

// {"cpu": {...}, "memory": {...}, "pids": {...}, "blkio": {...}}, from whichever
// hierarchies of `cgroup_dirs` hold each controller's files.
Json CgroupStats(const std::vector<std::string>& cgroup_dirs);

// A descriptor that becomes readable when the cgroup hits an OOM: a v1
// memory.oom_control eventfd, or an inotify watch on v2's memory.events.
class OomWatch {
 public:
  static absl::StatusOr<OomWatch> Open(const std::vector<std::string>& cgroup_dirs);
  int fd() const { return fd_.Get(); }
  // Consumes the notification; true when it was an OOM (v2: oom_kill grew).
  bool Consume();

 private:
  UniqueFd fd_;
  UniqueFd control_;    // v1: memory.oom_control, kept open for the registration
  std::string events_;  // v2: path of memory.events
  long long oom_kills_ = 0;
};

}  // namespace berth::oci
