// The cgroup v1 driver: one directory per mounted hierarchy (cpu, memory, ...,
// name=systemd), resources written to the v1 interface files.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/oci/runtime_spec.h"
#include "lowlevel-runtime/cgroups/cgroup.h"
#include "lowlevel-runtime/cgroups/cgroup_files.h"

namespace berth::oci {

// The cgroup's directory in one v1 hierarchy.
struct CgroupV1Dir {
  std::vector<std::string> controllers;  // {"cpu", "cpuacct"}, {"name=systemd"}
  std::string path;                      // "/sys/fs/cgroup/memory/berth-oci/x"
};

// The v1 writes for `resources`, in order; controller names the hierarchy.
// Pure: no file is touched.
absl::StatusOr<std::vector<CgroupWrite>> CgroupV1Writes(const Resources& resources);

// devices.allow/deny syntax: "c 1:3 rwm", "a *:* rwm"; "*" for an absent number.
absl::StatusOr<std::string> V1DeviceRule(const DeviceCgroupRule& rule);

class CgroupV1 final : public Cgroup {
 public:
  // exclusive: v1 is the host's only cgroup layout, so resources for a controller
  // that is not mounted are an error; otherwise (hybrid) they are left to v2.
  CgroupV1(std::vector<CgroupV1Dir> dirs, bool exclusive);

  absl::Status Create(const Resources* resources) override;
  absl::Status AddProcess(pid_t pid) override;
  absl::Status Apply(const Resources& resources) override;
  absl::StatusOr<std::vector<pid_t>> Pids() const override;
  absl::Status Freeze(bool frozen) override;
  absl::StatusOr<bool> Frozen() const override;
  absl::Status Destroy() override;
  std::string PrimaryPath() const override;
  std::vector<std::string> Paths() const override;

  // mkdir -p in every hierarchy (new cpuset cgroups get their parent's cpus and
  // mems); appends what it created to *created.
  absl::Status CreateDirs(std::vector<std::string>* created);
  // The directory in the hierarchy `controller` is bound to, or nullptr.
  const std::string* DirFor(absl::string_view controller) const;

 private:
  std::vector<CgroupV1Dir> dirs_;
  bool exclusive_;
};

}  // namespace berth::oci
