// The cgroup v2 driver: one directory on the unified hierarchy; resources
// written to the v2 interface files, controllers enabled from the root down.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/oci/runtime_spec.h"
#include "lowlevel-runtime/cgroups/cgroup.h"
#include "lowlevel-runtime/cgroups/cgroup_files.h"

namespace berth::oci {

// runc's conversions of v1-style spec values to v2 files.
// cpu.shares [2, 262144] -> cpu.weight [1, 10000]; 0 stays 0 ("not set").
uint64_t CpuSharesToWeight(uint64_t shares);
// blkio weight [10, 1000] -> io.weight [1, 10000]; 0 stays 0.
uint64_t BlkioWeightToIoWeight(uint64_t weight);
// memory.swap.max from the spec's memory+swap `swap` and memory `limit` (0 is
// "not set", -1 unlimited): nullopt when nothing is to be written.
absl::StatusOr<std::optional<std::string>> MemorySwapMax(int64_t swap, int64_t limit);

// The v2 writes for `resources`, in order; controller names the v2 controller
// ("io" for block I/O, "unified" for linux.resources.unified). Device rules are
// not among them. Pure: no file is touched.
absl::StatusOr<std::vector<CgroupWrite>> CgroupV2Writes(const Resources& resources);

class CgroupV2 final : public Cgroup {
 public:
  // mount_point: the cgroup2 mount; dir: the cgroup, below mount_point.
  // v1_controllers: controllers (v1 names: "blkio" for io) a v1 driver manages
  // beside this one (hybrid): their resources are skipped here.
  CgroupV2(std::string mount_point, std::string dir, std::vector<std::string> v1_controllers = {});

  absl::Status Create(const Resources* resources) override;
  absl::Status AddProcess(pid_t pid) override;
  absl::Status Apply(const Resources& resources) override;
  absl::StatusOr<std::vector<pid_t>> Pids() const override;
  absl::Status Freeze(bool frozen) override;
  absl::StatusOr<bool> Frozen() const override;
  absl::Status Destroy() override;
  std::string PrimaryPath() const override { return dir_; }
  std::vector<std::string> Paths() const override { return {dir_}; }

  // mkdir -p, then enables every controller the root offers in each ancestor's
  // cgroup.subtree_control, from the root down; appends what it created.
  absl::Status CreateDirs(std::vector<std::string>* created);

 private:
  bool Skipped(absl::string_view controller) const;
  absl::Status WaitFrozen(bool frozen) const;

  std::string mount_point_;
  std::string dir_;
  std::vector<std::string> v1_controllers_;
};

}  // namespace berth::oci
