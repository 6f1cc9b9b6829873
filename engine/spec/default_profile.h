// The parts of Docker's default Linux spec (moby oci/defaults.go) and its
// device handling (daemon/oci_linux.go WithDevices, oci/devices_linux.go).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json.h"

namespace berth::engine::spec {

// Docker's default mounts, in Docker's order: /proc, /dev, /dev/pts, /sys,
// /sys/fs/cgroup, /dev/mqueue, /dev/shm (its size= option is added by the
// caller from HostConfig.ShmSize).
Json DefaultMounts();

std::vector<std::string> DefaultMaskedPaths();
std::vector<std::string> DefaultReadonlyPaths();

// linux.resources.devices for an unprivileged container: deny all, then allow
// null, zero, urandom, random, tty, console (c 1:5 1:3 1:9 1:8 5:0 5:1), and
// deny fuse (c 10:229). The runtime adds its own defaults after these
// (runc's/berth-oci's "c *:* m", "b *:* m", 1:7, 136:*, 5:2, 10:200 ...).
Json DefaultDeviceCgroupRules();

// Every device node under dir (recursively, skipping pts, shm, fd, mqueue and
// console as containerd's HostDevices does) as linux.devices entries; what a
// privileged container gets.
absl::StatusOr<Json> HostDevices(const std::string& dev_dir);

// One HostConfig.Devices entry ({PathOnHost, PathInContainer, CgroupPermissions}):
// its linux.devices entries (a directory gives each node under it) and the
// cgroup rules allowing them. Appends to both arrays.
absl::Status DevicesFromPath(const std::string& path_on_host, const std::string& path_in_container,
                             const std::string& permissions, Json& devices, Json& rules);

// A HostConfig.DeviceCgroupRules entry ("c 1:3 rwm", "a *:* m") as a cgroup rule.
absl::StatusOr<Json> ParseDeviceCgroupRule(const std::string& rule);

}  // namespace berth::engine::spec
