// The container's mounts as dockerd lays them out (daemon/oci_linux.go
// WithMounts, volume/mounts parser): Docker's defaults, then binds, the
// network files and tmpfs mounts ordered by depth.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json.h"

namespace berth::engine::spec {

struct MountInputs {
  int64_t shm_size = 64 << 20;  // /dev/shm size= in bytes
  bool no_shm = false;          // IpcMode "none"
  bool readonly_rootfs = false;
  bool privileged = false;
  std::string init_path;  // bound read-only at /sbin/docker-init; "" for none
  std::string resolv_conf_path, hostname_path, hosts_path;  // "" for none
  std::vector<std::string> binds;  // HostConfig.Binds: "/host:/ctr[:ro,rprivate...]"
  Json mounts;                     // HostConfig.Mounts (bind and tmpfs types)
  Json tmpfs;                      // HostConfig.Tmpfs: {"/run": "size=64m,exec"}
};

absl::StatusOr<Json> ContainerMounts(const MountInputs& in);

// One Binds entry as an OCI bind mount. Named and anonymous volumes ("data:/x",
// "/x") are Unimplemented here: the daemon resolves volumes to host paths.
absl::StatusOr<Json> ParseBind(const std::string& bind);

// moby/sys/mount's MergeTmpfsOptions: later flags win over earlier ones of the
// same kind (exec over noexec, one propagation), later data options (size=,
// mode=...) over earlier ones; unknown options fail.
absl::StatusOr<std::vector<std::string>> MergeTmpfsOptions(const std::vector<std::string>& options);

}  // namespace berth::engine::spec
