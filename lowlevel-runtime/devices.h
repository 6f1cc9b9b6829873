// Device nodes in the container's /dev: the default set every container gets
// (null, zero, full, random, urandom, tty), the spec's linux.devices, and the
// standard symlinks (fd, stdin, stdout, stderr, ptmx, core).
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "common/oci/runtime_spec.h"

namespace berth::oci {

// The devices every container gets, as runc's defaults.
std::vector<Device> DefaultDevices();

// The device cgroup rules every container gets after the spec's own, as runc:
// mknod of any node, and rwm of the default devices, /dev/console, ptys and tun.
std::vector<DeviceCgroupRule> DefaultAllowedDeviceRules();

// The spec's resources with the default rules and one allow rule per
// linux.devices entry appended: what the device cgroup is given.
Resources EffectiveResources(const Spec& spec);

// Creates `devices` under rootfs_fd: mknod, or (in a user namespace, where mknod
// is not allowed) a bind mount of the host's node.
absl::Status CreateDevices(int rootfs_fd, const std::vector<Device>& devices, bool bind_from_host);

// /dev/fd, /dev/std{in,out,err}, /dev/core and /dev/ptmx symlinks.
absl::Status CreateDevSymlinks(int rootfs_fd);

}  // namespace berth::oci
