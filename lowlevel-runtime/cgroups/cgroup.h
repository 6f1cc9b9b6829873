// A container's cgroup, on whatever layout the host has: cgroup v1 controllers,
// the cgroup v2 unified hierarchy, or the hybrid of both (v1 controllers plus a
// cgroup2 mount at /sys/fs/cgroup/unified, as systemd's "hybrid" mode and this
// project's CI host have). The layout is detected at run time from mountinfo.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/oci/runtime_spec.h"

namespace berth::oci {

class Cgroup {
 public:
  virtual ~Cgroup() = default;

  // Creates the cgroup directories (all controllers) and applies `resources`
  // (nullptr: none). Joining a cgroup that already exists is fine. On failure the
  // directories this call created are removed again.
  virtual absl::Status Create(const Resources* resources) = 0;
  // Moves pid into the cgroup (every hierarchy).
  virtual absl::Status AddProcess(pid_t pid) = 0;
  // Applies resources to an existing cgroup (create and `update`). Only the
  // values that are set are written; as in runc, a zero memory/cpu value means
  // "not set". Resources of the device controller are ignored on cgroup v2 (no
  // eBPF device filter yet).
  virtual absl::Status Apply(const Resources& resources) = 0;
  // Every pid in the cgroup (and its descendants).
  virtual absl::StatusOr<std::vector<pid_t>> Pids() const = 0;
  // Freezes (true) or thaws (false); waits until the state is reached (a freeze
  // that does not complete within 5 s is undone and fails with DeadlineExceeded).
  virtual absl::Status Freeze(bool frozen) = 0;
  virtual absl::StatusOr<bool> Frozen() const = 0;
  // Removes the directories; fails with FailedPrecondition while processes remain.
  // Removing a cgroup that does not exist is OK.
  virtual absl::Status Destroy() = 0;
  // The absolute directory of the cgroup on the unified hierarchy (v2) or of the
  // "memory" controller (v1), for diagnostics and tests.
  virtual std::string PrimaryPath() const = 0;
  // Every directory of the cgroup, one per hierarchy (v1 controllers, unified).
  virtual std::vector<std::string> Paths() const = 0;
};

// cgroups_path is the spec's linux.cgroupsPath: absolute paths are relative to
// each hierarchy's root, relative ones to the calling process's own cgroup, and
// empty means "/berth-oci/<container_id>". Nothing is created until Create().
// InvalidArgument for a path with ".." escaping its base or systemd's
// "slice:prefix:name" form (no --systemd-cgroup support yet).
absl::StatusOr<std::unique_ptr<Cgroup>> OpenCgroup(const std::string& cgroups_path,
                                                   const std::string& container_id);

}  // namespace berth::oci
