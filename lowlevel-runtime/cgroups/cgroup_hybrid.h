// The hybrid layout's cgroup: the v1 driver for the controllers mounted on v1,
// the v2 driver on the cgroup2 mount for the rest (as runc does, processes join
// both). NewCgroupForLayout picks the driver for any layout.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "lowlevel-runtime/cgroups/cgroup.h"
#include "lowlevel-runtime/cgroups/cgroup_layout.h"
#include "lowlevel-runtime/cgroups/cgroup_v1.h"
#include "lowlevel-runtime/cgroups/cgroup_v2.h"

namespace berth::oci {

class HybridCgroup final : public Cgroup {
 public:
  HybridCgroup(std::unique_ptr<CgroupV1> v1, std::unique_ptr<CgroupV2> v2);

  absl::Status Create(const Resources* resources) override;
  absl::Status AddProcess(pid_t pid) override;
  absl::Status Apply(const Resources& resources) override;
  // From the v1 memory hierarchy.
  absl::StatusOr<std::vector<pid_t>> Pids() const override;
  // The v1 freezer when mounted, else cgroup.freeze on the unified hierarchy.
  absl::Status Freeze(bool frozen) override;
  absl::StatusOr<bool> Frozen() const override;
  absl::Status Destroy() override;
  std::string PrimaryPath() const override { return v1_->PrimaryPath(); }
  std::vector<std::string> Paths() const override;

 private:
  Cgroup& Freezer() const;

  std::unique_ptr<CgroupV1> v1_;
  std::unique_ptr<CgroupV2> v2_;
};

// The cgroup at clean_path (a CleanCgroupsPath result) on `layout`.
std::unique_ptr<Cgroup> NewCgroupForLayout(const CgroupLayout& layout,
                                           absl::string_view clean_path);

}  // namespace berth::oci
