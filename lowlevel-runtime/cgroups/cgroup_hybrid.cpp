#include "lowlevel-runtime/cgroups/cgroup_hybrid.h"

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "lowlevel-runtime/cgroups/cgroup_files.h"

namespace berth::oci {

HybridCgroup::HybridCgroup(std::unique_ptr<CgroupV1> v1, std::unique_ptr<CgroupV2> v2)
    : v1_(std::move(v1)), v2_(std::move(v2)) {}

absl::Status HybridCgroup::Create(const Resources* resources) {
  std::vector<std::string> created;
  absl::Status status = v1_->CreateDirs(&created);
  if (status.ok()) status = v2_->CreateDirs(&created);
  if (status.ok() && resources != nullptr) status = Apply(*resources);
  if (!status.ok()) RemoveCreatedDirs(created);
  return status;
}

absl::Status HybridCgroup::AddProcess(pid_t pid) {
  BERTH_RETURN_IF_ERROR(v1_->AddProcess(pid));
  return v2_->AddProcess(pid);
}

absl::Status HybridCgroup::Apply(const Resources& resources) {
  BERTH_RETURN_IF_ERROR(v1_->Apply(resources));
  return v2_->Apply(resources);
}

absl::StatusOr<std::vector<pid_t>> HybridCgroup::Pids() const { return v1_->Pids(); }

Cgroup& HybridCgroup::Freezer() const {
  if (v1_->DirFor("freezer") != nullptr) return *v1_;
  return *v2_;
}

absl::Status HybridCgroup::Freeze(bool frozen) { return Freezer().Freeze(frozen); }

absl::StatusOr<bool> HybridCgroup::Frozen() const { return Freezer().Frozen(); }

absl::Status HybridCgroup::Destroy() {
  absl::Status v1 = v1_->Destroy();
  absl::Status v2 = v2_->Destroy();
  return v1.ok() ? v2 : v1;
}

std::vector<std::string> HybridCgroup::Paths() const {
  std::vector<std::string> paths = v1_->Paths();
  paths.push_back(v2_->PrimaryPath());
  return paths;
}

std::unique_ptr<Cgroup> NewCgroupForLayout(const CgroupLayout& layout,
                                           absl::string_view clean_path) {
  if (layout.mode == CgroupMode::kV2) {
    return std::make_unique<CgroupV2>(layout.unified->mount_point,
                                      CgroupDirIn(*layout.unified, clean_path));
  }
  std::vector<CgroupV1Dir> dirs;
  std::vector<std::string> v1_controllers;
  dirs.reserve(layout.v1.size());
  for (const CgroupHierarchy& h : layout.v1) {
    dirs.push_back({h.controllers, CgroupDirIn(h, clean_path)});
    v1_controllers.insert(v1_controllers.end(), h.controllers.begin(), h.controllers.end());
  }
  if (layout.mode == CgroupMode::kV1) {
    return std::make_unique<CgroupV1>(std::move(dirs), /*exclusive=*/true);
  }
  return std::make_unique<HybridCgroup>(
      std::make_unique<CgroupV1>(std::move(dirs), /*exclusive=*/false),
      std::make_unique<CgroupV2>(layout.unified->mount_point,
                                 CgroupDirIn(*layout.unified, clean_path),
                                 std::move(v1_controllers)));
}

}  // namespace berth::oci
