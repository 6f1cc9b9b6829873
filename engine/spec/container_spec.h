// berthd_spec: a Docker container (Config + HostConfig) to the OCI runtime spec
// (config.json) dockerd would produce for it (moby daemon/oci_linux.go,
// oci/defaults.go, profiles/seccomp). Pure functions of their inputs plus, where
// Docker reads the host, a HostInfo that tests can replace.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/json.h"
#include "engine/spec/capabilities.h"
#include "engine/spec/default_profile.h"
#include "engine/spec/host_info.h"
#include "engine/spec/image_config_merge.h"
#include "engine/spec/network_files.h"
#include "engine/spec/seccomp_profile.h"
#include "engine/spec/user_lookup.h"

namespace berth::engine::spec {

struct SpecInput {
  std::string id;              // the 64-hex container id
  nlohmann::json config;       // merged Docker Config (MergeImageConfig)
  nlohmann::json host_config;  // Docker HostConfig
  User user;                   // LookupUser(rootfs, Config.User, HostConfig.GroupAdd)
  // Host files bind-mounted at /etc/hostname, /etc/hosts, /etc/resolv.conf
  // (WriteNetworkFiles writes them); an empty path is not mounted.
  std::string hostname_path, hosts_path, resolv_conf_path;
  // The host's docker-init (tini-static: /usr/bin/docker-init), bound read-only
  // at /sbin/docker-init when HostConfig.Init is true.
  std::string init_path;
  std::string cgroups_path;  // linux.cgroupsPath, e.g. "/berth/<id>"; "" leaves it out
};

// The container's hostname as dockerd sets Config.Hostname at create: the
// host's in host network mode, else the first 12 characters of the id.
std::string DefaultHostname(const std::string& id, const std::string& network_mode,
                            const HostInfo& host = LocalHost());

// The OCI config.json for the container, root.path "rootfs".
//
// Config: Entrypoint+Cmd (args), Env (after PATH, HOSTNAME and, with Tty,
// TERM=xterm, as dockerd's CreateDaemonEnvironment), WorkingDir, Hostname,
// Domainname (the kernel.domainname sysctl), Tty. HostConfig: NetworkMode
// ("none", "host", "bridge"/"default"/a network name: a new network namespace;
// "container:..." is not supported), IpcMode/PidMode/UTSMode "host",
// CgroupnsMode, Privileged, CapAdd, CapDrop, SecurityOpt (no-new-privileges[:|=bool],
// seccomp=unconfined|builtin|<profile JSON>; apparmor= and label= are accepted
// and ignored: berth has no LSM support), ReadonlyRootfs, Init, Memory,
// MemoryReservation, MemorySwap, MemorySwappiness, OomKillDisable, NanoCpus,
// CpuShares, CpuQuota, CpuPeriod, CpuRealtimePeriod/Runtime, CpusetCpus,
// CpusetMems, PidsLimit, BlkioWeight, ShmSize, Sysctls, Tmpfs, Binds, Mounts
// (bind, tmpfs), Devices, DeviceCgroupRules, Ulimits, OomScoreAdj,
// MaskedPaths, ReadonlyPaths, ConsoleSize. Other fields are ignored.
absl::StatusOr<nlohmann::json> BuildContainerSpec(const SpecInput& in);
// The same on a described host (tests).
absl::StatusOr<nlohmann::json> BuildContainerSpec(const SpecInput& in, const HostInfo& host);

}  // namespace berth::engine::spec
