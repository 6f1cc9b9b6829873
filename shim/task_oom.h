// TaskOOM for a running task: the memory cgroup of its init (from
// /proc/PID/cgroup, on v1 or v2) watched on the shim's loop.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/event_loop.h"
#include "lowlevel-runtime/cgroups/cgroup_stats.h"

namespace berth::shim {

// The cgroup directories of pid, one per mounted hierarchy that lists it.
absl::StatusOr<std::vector<std::string>> CgroupDirsOf(pid_t pid);

class TaskOomWatch {
 public:
  // Calls on_oom on the loop each time the cgroup of pid hits an OOM.
  static absl::StatusOr<std::unique_ptr<TaskOomWatch>> Start(EventLoop& loop, pid_t pid,
                                                             std::function<void()> on_oom);
  ~TaskOomWatch();

 private:
  TaskOomWatch(EventLoop& loop, oci::OomWatch watch) : loop_(loop), watch_(std::move(watch)) {}
  EventLoop& loop_;
  oci::OomWatch watch_;
};

}  // namespace berth::shim
