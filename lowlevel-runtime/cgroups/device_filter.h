// Device access control on cgroup v2: the kernel has no devices.allow there, so
// the rules become a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the
// container's cgroup (as runc's and crun's device filters do).
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "common/oci/runtime_spec.h"
#include "common/unique_fd.h"

namespace berth::oci {

// The program for `rules`, evaluated like the v1 devices controller: the last
// matching rule decides, no match denies.
std::vector<struct bpf_insn> DeviceFilterProgram(const std::vector<DeviceCgroupRule>& rules);

// Loads the program and attaches it to the cgroup directory `cgroup_dir_fd`,
// replacing the device programs attached to that cgroup before.
absl::Status AttachDeviceFilter(int cgroup_dir_fd, const std::vector<DeviceCgroupRule>& rules);

// The ids of the device programs attached to the cgroup directory itself.
absl::StatusOr<std::vector<uint32_t>> AttachedDeviceFilters(int cgroup_dir_fd);

}  // namespace berth::oci
