// The cgroup of a container that has none: a rootless container whose cgroup
// could not be created. Joining and removing it do nothing; its only process
// known is the init (signalling it reaches the whole pid namespace); limits,
// freezing and statistics fail with FailedPrecondition, as runc's do there.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "lowlevel-runtime/cgroups/cgroup.h"

namespace berth::oci {

class NoCgroup final : public Cgroup {
 public:
  // init_pid: the container's live init, or 0 when it is gone.
  explicit NoCgroup(pid_t init_pid) : init_pid_(init_pid) {}

  absl::Status Create(const Resources* resources) override;
  absl::Status AddProcess(pid_t) override { return absl::OkStatus(); }
  absl::Status Apply(const Resources& resources) override;
  absl::StatusOr<std::vector<pid_t>> Pids() const override;
  absl::Status Freeze(bool frozen) override;
  absl::StatusOr<bool> Frozen() const override { return false; }
  absl::Status Destroy() override { return absl::OkStatus(); }
  std::string PrimaryPath() const override { return ""; }
  std::vector<std::string> Paths() const override { return {}; }

 private:
  pid_t init_pid_;
};

// True when resources asks for a limit a cgroup would enforce: memory, cpu,
// pids, block I/O, hugepages or unified keys. Device rules do not count: a
// user namespace cannot mknod, and the devices it binds in are the host's.
bool HasResourceLimits(const Resources& resources);

}  // namespace berth::oci
