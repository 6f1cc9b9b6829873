#include "engine/spec/container_spec.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status.h"
#include "engine/spec/mounts.h"

namespace berth::engine::spec {
namespace {

constexpr char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr char kInContainerInitPath[] = "/sbin/docker-init";
constexpr int64_t kDefaultShmSize = 64 << 20;   // dockerd's DefaultShmSize
constexpr int64_t kMinMemory = 6 << 20;         // dockerd's linuxMinMemory
constexpr uint64_t kDefaultCpuPeriod = 100000;  // 100ms in µs, for NanoCpus

// Null-tolerant, typed reads of a Docker JSON object: absent and null are Go's
// zero values; a wrong type is an error naming "HostConfig.Memory".
class Fields {
 public:
  Fields(const Json& object, const char* what) : object_(object), what_(what) {}

  absl::Status Check() const {
    if (object_.is_null() || object_.is_object()) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat(what_, ": expected an object, got ", JsonTypeName(object_)));
  }

  template <typename T>
  absl::StatusOr<std::optional<T>> Optional(const char* key) const {
    return JsonOptionalField<T>(object_, key, what_);
  }

  template <typename T>
  absl::StatusOr<T> Get(const char* key) const {
    auto value = Optional<T>(key);
    if (!value.ok()) return value.status();
    return value->value_or(T{});
  }

  const Json* Raw(const char* key) const {
    if (!object_.is_object()) return nullptr;
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) return nullptr;
    return &*it;
  }

 private:
  const Json& object_;
  const char* what_;
};

// moby's ReplaceOrAppendEnvValues: "KEY=v" replaces or appends, a bare "KEY" unsets.
void ReplaceOrAppendEnv(std::vector<std::string>& env, const std::vector<std::string>& overrides) {
  auto key_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < env.size(); ++i) index[key_of(env[i])] = i;
  std::vector<bool> removed(env.size(), false);
  for (const std::string& value : overrides) {
    size_t eq = value.find('=');
    if (eq == std::string::npos) {
      if (auto it = index.find(value); it != index.end()) removed[it->second] = true;
      continue;
    }
    std::string key = value.substr(0, eq);
    if (auto it = index.find(key); it != index.end()) {
      env[it->second] = value;
      removed[it->second] = false;
    } else {
      index[key] = env.size();
      env.push_back(value);
      removed.push_back(false);
    }
  }
  std::vector<std::string> kept;
  for (size_t i = 0; i < env.size(); ++i) {
    if (!removed[i]) kept.push_back(env[i]);
  }
  env = std::move(kept);
}

// Go's strconv.ParseBool.
std::optional<bool> ParseBool(const std::string& text) {
  if (text == "1" || text == "t" || text == "T" || text == "true" || text == "TRUE" ||
      text == "True") {
    return true;
  }
  if (text == "0" || text == "f" || text == "F" || text == "false" || text == "FALSE" ||
      text == "False") {
    return false;
  }
  return std::nullopt;
}

struct SecurityOptions {
  bool no_new_privileges = false;
  std::string seccomp;  // "", "unconfined", "builtin" or a profile's JSON
};

// moby's parseSecurityOpt.
absl::StatusOr<SecurityOptions> ParseSecurityOpts(const std::vector<std::string>& opts) {
  SecurityOptions out;
  for (const std::string& opt : opts) {
    if (opt == "no-new-privileges") {
      out.no_new_privileges = true;
      continue;
    }
    if (opt == "disable") continue;  // label=disable's short form: no SELinux here anyway
    size_t sep = opt.find('=');
    if (sep == std::string::npos) sep = opt.find(':');
    if (sep == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("invalid --security-opt 1: \"", opt, "\""));
    }
    std::string key = opt.substr(0, sep);
    std::string value = opt.substr(sep + 1);
    if (key == "label" || key == "apparmor") continue;  // no LSM support in berth
    if (key == "seccomp") {
      out.seccomp = value;
    } else if (key == "no-new-privileges") {
      std::optional<bool> flag = ParseBool(value);
      if (!flag) {
        return absl::InvalidArgumentError(absl::StrCat("invalid --security-opt 2: \"", opt, "\""));
      }
      out.no_new_privileges = *flag;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("invalid --security-opt 2: \"", opt, "\""));
    }
  }
  return out;
}

struct Modes {
  bool host_network = false;
  bool host_ipc = false;
  bool no_ipc = false;  // IpcMode "none": no /dev/shm
  bool host_pid = false;
  bool host_uts = false;
  bool cgroup_ns = false;
};

absl::StatusOr<Modes> ParseModes(const Fields& hc, const HostInfo& host) {
  Modes modes;
  BERTH_ASSIGN_OR_RETURN(std::string network, hc.Get<std::string>("NetworkMode"));
  BERTH_ASSIGN_OR_RETURN(std::string ipc, hc.Get<std::string>("IpcMode"));
  BERTH_ASSIGN_OR_RETURN(std::string pid, hc.Get<std::string>("PidMode"));
  BERTH_ASSIGN_OR_RETURN(std::string uts, hc.Get<std::string>("UTSMode"));
  BERTH_ASSIGN_OR_RETURN(std::string cgroupns, hc.Get<std::string>("CgroupnsMode"));
  struct Shared {
    const char* name;
    const std::string* mode;
  };
  for (const Shared& shared :
       {Shared{"network", &network}, Shared{"IPC", &ipc}, Shared{"PID", &pid}}) {
    if (absl::StartsWith(*shared.mode, "container:")) {
      return absl::UnimplementedError(absl::StrCat("sharing another container's ", shared.name,
                                                   " namespace (", *shared.mode,
                                                   ") is not supported yet"));
    }
  }
  modes.host_network = network == "host";
  if (ipc != "" && ipc != "private" && ipc != "shareable" && ipc != "none" && ipc != "host") {
    return absl::InvalidArgumentError(absl::StrCat("invalid IPC mode: ", ipc));
  }
  modes.host_ipc = ipc == "host";
  modes.no_ipc = ipc == "none";
  if (pid != "" && pid != "host") {
    return absl::InvalidArgumentError(absl::StrCat("invalid PID mode: ", pid));
  }
  modes.host_pid = pid == "host";
  if (uts != "" && uts != "host") {
    return absl::InvalidArgumentError(absl::StrCat("invalid UTS mode: ", uts));
  }
  modes.host_uts = uts == "host";
  if (cgroupns != "" && cgroupns != "private" && cgroupns != "host") {
    return absl::InvalidArgumentError(absl::StrCat("invalid cgroup namespace mode: ", cgroupns));
  }
  // dockerd's default-cgroupns-mode: private on a cgroup v2 host, host on v1.
  modes.cgroup_ns = cgroupns == "private" || (cgroupns.empty() && host.cgroup2);
  return modes;
}

Json Namespaces(const Modes& modes) {
  Json namespaces = Json::array({{{"type", "mount"}}});
  if (!modes.host_network) namespaces.push_back({{"type", "network"}});
  if (!modes.host_uts) namespaces.push_back({{"type", "uts"}});
  if (!modes.host_pid) namespaces.push_back({{"type", "pid"}});
  if (!modes.host_ipc) namespaces.push_back({{"type", "ipc"}});
  if (modes.cgroup_ns) namespaces.push_back({{"type", "cgroup"}});
  return namespaces;
}

absl::StatusOr<Json> MemoryResources(const Fields& hc) {
  BERTH_ASSIGN_OR_RETURN(int64_t memory, hc.Get<int64_t>("Memory"));
  BERTH_ASSIGN_OR_RETURN(int64_t reservation, hc.Get<int64_t>("MemoryReservation"));
  BERTH_ASSIGN_OR_RETURN(int64_t swap, hc.Get<int64_t>("MemorySwap"));
  BERTH_ASSIGN_OR_RETURN(std::optional<int64_t> swappiness,
                         hc.Optional<int64_t>("MemorySwappiness"));
  BERTH_ASSIGN_OR_RETURN(std::optional<bool> oom_kill_disable, hc.Optional<bool>("OomKillDisable"));
  if (memory > 0 && memory < kMinMemory) {
    return absl::InvalidArgumentError("Minimum memory limit allowed is 6MB");
  }
  // dockerd at create: no MemorySwap with a Memory limit means twice the limit.
  if (memory > 0 && swap == 0) swap = 2 * memory;
  if (memory > 0 && swap > 0 && swap < memory) {
    return absl::InvalidArgumentError(
        "Minimum memoryswap limit should be larger than memory limit, see usage");
  }
  if (memory > 0 && reservation > 0 && memory < reservation) {
    return absl::InvalidArgumentError(
        "Minimum memory limit can not be less than memory reservation limit, see usage");
  }
  if (swappiness && *swappiness != -1 && (*swappiness < 0 || *swappiness > 100)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Invalid value: ", *swappiness, ", valid memory swappiness range is 0-100"));
  }
  Json out = Json::object();
  if (memory > 0) out["limit"] = memory;
  if (reservation > 0) out["reservation"] = reservation;
  if (swap > 0) out["swap"] = swap;
  if (swappiness && *swappiness >= 0) out["swappiness"] = static_cast<uint64_t>(*swappiness);
  if (oom_kill_disable) out["disableOOMKiller"] = *oom_kill_disable;
  return out;
}

absl::StatusOr<Json> CpuResources(const Fields& hc) {
  BERTH_ASSIGN_OR_RETURN(int64_t shares, hc.Get<int64_t>("CpuShares"));
  BERTH_ASSIGN_OR_RETURN(int64_t nano, hc.Get<int64_t>("NanoCpus"));
  BERTH_ASSIGN_OR_RETURN(int64_t period, hc.Get<int64_t>("CpuPeriod"));
  BERTH_ASSIGN_OR_RETURN(int64_t quota, hc.Get<int64_t>("CpuQuota"));
  BERTH_ASSIGN_OR_RETURN(int64_t rt_period, hc.Get<int64_t>("CpuRealtimePeriod"));
  BERTH_ASSIGN_OR_RETURN(int64_t rt_runtime, hc.Get<int64_t>("CpuRealtimeRuntime"));
  BERTH_ASSIGN_OR_RETURN(std::string cpus, hc.Get<std::string>("CpusetCpus"));
  BERTH_ASSIGN_OR_RETURN(std::string mems, hc.Get<std::string>("CpusetMems"));
  if (shares < 0) return absl::InvalidArgumentError("shares: invalid argument");
  if (nano < 0) return absl::InvalidArgumentError("invalid value: NanoCpus must be positive");
  if (nano > 0 && period > 0) {
    return absl::InvalidArgumentError(
        "Conflicting options: Nano CPUs and CPU Period cannot both be set");
  }
  if (nano > 0 && quota > 0) {
    return absl::InvalidArgumentError(
        "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  }
  if (period != 0 && (period < 1000 || period > 1000000)) {
    return absl::InvalidArgumentError(
        "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
  }
  if (quota > 0 && quota < 1000) {
    return absl::InvalidArgumentError("CPU cfs quota can not be less than 1ms (i.e. 1000)");
  }
  Json out = {{"shares", static_cast<uint64_t>(shares)}};
  if (!cpus.empty()) out["cpus"] = cpus;
  if (!mems.empty()) out["mems"] = mems;
  if (nano > 0) {
    out["period"] = kDefaultCpuPeriod;
    out["quota"] = nano * static_cast<int64_t>(kDefaultCpuPeriod) / 1000000000;
  }
  if (period != 0) out["period"] = static_cast<uint64_t>(period);
  if (quota != 0) out["quota"] = quota;
  if (rt_period != 0) out["realtimePeriod"] = static_cast<uint64_t>(rt_period);
  if (rt_runtime != 0) out["realtimeRuntime"] = rt_runtime;
  return out;
}

// HostConfig.Ulimits to process.rlimits.
absl::StatusOr<Json> Rlimits(const Fields& hc) {
  Json rlimits = Json::array();
  const Json* ulimits = hc.Raw("Ulimits");
  if (ulimits == nullptr) return rlimits;
  if (!ulimits->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat("HostConfig.Ulimits: expected an array, got ", JsonTypeName(*ulimits)));
  }
  for (const Json& ulimit : *ulimits) {
    Fields fields(ulimit, "HostConfig.Ulimits[]");
    BERTH_RETURN_IF_ERROR(fields.Check());
    BERTH_ASSIGN_OR_RETURN(std::string name, fields.Get<std::string>("Name"));
    BERTH_ASSIGN_OR_RETURN(int64_t soft, fields.Get<int64_t>("Soft"));
    BERTH_ASSIGN_OR_RETURN(int64_t hard, fields.Get<int64_t>("Hard"));
    if (name.empty()) return absl::InvalidArgumentError("HostConfig.Ulimits: a ulimit has no Name");
    rlimits.push_back({{"type", absl::StrCat("RLIMIT_", absl::AsciiStrToUpper(name))},
                       {"hard", static_cast<uint64_t>(hard)},
                       {"soft", static_cast<uint64_t>(soft)}});
  }
  return rlimits;
}

// Clean absolute working directory ("/" when unset), or the dockerd error.
absl::StatusOr<std::string> WorkingDir(const std::string& dir) {
  if (dir.empty()) return std::string("/");
  if (dir[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat(
        "the working directory '", dir, "' is invalid, it needs to be an absolute path"));
  }
  std::string clean = std::filesystem::path(dir).lexically_normal().string();
  while (clean.size() > 1 && clean.back() == '/') clean.pop_back();
  return clean;
}

}  // namespace

std::string DefaultHostname(const std::string& id, const std::string& network_mode,
                            const HostInfo& host) {
  if (network_mode == "host") return host.hostname;
  return id.substr(0, 12);
}

absl::StatusOr<Json> BuildContainerSpec(const SpecInput& in) {
  return BuildContainerSpec(in, LocalHost());
}

absl::StatusOr<Json> BuildContainerSpec(const SpecInput& in, const HostInfo& host) {
  Fields config(in.config, "Config");
  Fields hc(in.host_config, "HostConfig");
  BERTH_RETURN_IF_ERROR(config.Check());
  BERTH_RETURN_IF_ERROR(hc.Check());
  if (in.id.empty()) return absl::InvalidArgumentError("container id: missing");

  BERTH_ASSIGN_OR_RETURN(Modes modes, ParseModes(hc, host));
  BERTH_ASSIGN_OR_RETURN(bool privileged, hc.Get<bool>("Privileged"));
  BERTH_ASSIGN_OR_RETURN(bool readonly_rootfs, hc.Get<bool>("ReadonlyRootfs"));
  BERTH_ASSIGN_OR_RETURN(bool tty, config.Get<bool>("Tty"));

  // --- process ---
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> args, ProcessArgs(in.config));
  BERTH_ASSIGN_OR_RETURN(std::optional<bool> init, hc.Optional<bool>("Init"));
  const bool use_init = init.value_or(false) && !modes.host_pid;
  if (use_init) {
    if (in.init_path.empty()) {
      return absl::FailedPreconditionError(
          "--init: docker-init not found (install tini, which provides /usr/bin/docker-init)");
    }
    args.insert(args.begin(), {kInContainerInitPath, "--"});
  }
  BERTH_ASSIGN_OR_RETURN(std::string network_mode, hc.Get<std::string>("NetworkMode"));
  BERTH_ASSIGN_OR_RETURN(std::string hostname, config.Get<std::string>("Hostname"));
  if (hostname.empty()) hostname = DefaultHostname(in.id, network_mode, host);
  BERTH_ASSIGN_OR_RETURN(std::string domainname, config.Get<std::string>("Domainname"));

  std::vector<std::string> env = {absl::StrCat("PATH=", kDefaultPath),
                                  absl::StrCat("HOSTNAME=", hostname)};
  if (tty) env.push_back("TERM=xterm");
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> config_env,
                         config.Get<std::vector<std::string>>("Env"));
  ReplaceOrAppendEnv(env, config_env);

  BERTH_ASSIGN_OR_RETURN(std::string working_dir, config.Get<std::string>("WorkingDir"));
  BERTH_ASSIGN_OR_RETURN(std::string cwd, WorkingDir(working_dir));

  std::vector<uint32_t> gids = {in.user.gid};
  gids.insert(gids.end(), in.user.additional_gids.begin(), in.user.additional_gids.end());

  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> cap_add,
                         hc.Get<std::vector<std::string>>("CapAdd"));
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> cap_drop,
                         hc.Get<std::vector<std::string>>("CapDrop"));
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> caps,
                         ContainerCapabilities(cap_add, cap_drop, privileged, host));
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> security_opt,
                         hc.Get<std::vector<std::string>>("SecurityOpt"));
  BERTH_ASSIGN_OR_RETURN(SecurityOptions security, ParseSecurityOpts(security_opt));

  Json process = {{"terminal", tty},
                  {"user", {{"uid", in.user.uid}, {"gid", in.user.gid}, {"additionalGids", gids}}},
                  {"args", args},
                  {"env", env},
                  {"cwd", cwd}};
  // As execve would: a non-root user starts with no effective or permitted
  // capabilities, only the bounding set (dockerd's oci.SetCapabilities).
  if (in.user.uid == 0) {
    process["capabilities"] = {{"bounding", caps}, {"effective", caps}, {"permitted", caps}};
  } else {
    process["capabilities"] = {{"bounding", caps}};
  }
  if (const Json* size = hc.Raw("ConsoleSize"); tty && size != nullptr && size->is_array() &&
                                                size->size() == 2 && (*size)[0].is_number() &&
                                                (*size)[1].is_number()) {
    auto height = (*size)[0].get<uint32_t>();
    auto width = (*size)[1].get<uint32_t>();
    if (height > 0 || width > 0) process["consoleSize"] = {{"height", height}, {"width", width}};
  }
  BERTH_ASSIGN_OR_RETURN(Json rlimits, Rlimits(hc));
  if (!rlimits.empty()) process["rlimits"] = std::move(rlimits);
  if (security.no_new_privileges) process["noNewPrivileges"] = true;
  BERTH_ASSIGN_OR_RETURN(int64_t oom_score_adj, hc.Get<int64_t>("OomScoreAdj"));
  if (oom_score_adj < -1000 || oom_score_adj > 1000) {
    return absl::InvalidArgumentError(absl::StrCat("Invalid value ", oom_score_adj,
                                                   ", range for oom score adj is [-1000, 1000]"));
  }
  process["oomScoreAdj"] = oom_score_adj;

  // --- mounts ---
  BERTH_ASSIGN_OR_RETURN(int64_t shm_size, hc.Get<int64_t>("ShmSize"));
  if (shm_size < 0) return absl::InvalidArgumentError("SHM size can not be less than 0");
  MountInputs mount_inputs;
  mount_inputs.shm_size = shm_size == 0 ? kDefaultShmSize : shm_size;
  mount_inputs.no_shm = modes.no_ipc;
  mount_inputs.readonly_rootfs = readonly_rootfs;
  mount_inputs.privileged = privileged;
  if (use_init) mount_inputs.init_path = in.init_path;
  mount_inputs.resolv_conf_path = in.resolv_conf_path;
  mount_inputs.hostname_path = in.hostname_path;
  mount_inputs.hosts_path = in.hosts_path;
  BERTH_ASSIGN_OR_RETURN(mount_inputs.binds, hc.Get<std::vector<std::string>>("Binds"));
  if (const Json* mounts = hc.Raw("Mounts")) mount_inputs.mounts = *mounts;
  if (const Json* tmpfs = hc.Raw("Tmpfs")) mount_inputs.tmpfs = *tmpfs;
  BERTH_ASSIGN_OR_RETURN(Json mounts, ContainerMounts(mount_inputs));

  // --- linux ---
  Json linux = Json::object();
  Json sysctl = Json::object();
  if (!domainname.empty()) sysctl["kernel.domainname"] = domainname;
  if (!modes.host_network) {
    // dockerd's defaults for a private network namespace: ping without
    // CAP_NET_RAW, any port without CAP_NET_BIND_SERVICE.
    if (host.has_ping_group_range) sysctl["net.ipv4.ping_group_range"] = "0 2147483647";
    if (host.has_unprivileged_port_start) sysctl["net.ipv4.ip_unprivileged_port_start"] = "0";
  }
  BERTH_ASSIGN_OR_RETURN(auto sysctls, (hc.Get<std::map<std::string, std::string>>("Sysctls")));
  for (const auto& [key, value] : sysctls) sysctl[key] = value;
  linux["sysctl"] = std::move(sysctl);

  Json resources = Json::object();
  Json devices = Json::array();
  if (privileged) {
    BERTH_ASSIGN_OR_RETURN(devices, HostDevices(host.dev_dir));
    resources["devices"] = Json::array({{{"allow", true}, {"access", "rwm"}}});
  } else {
    resources["devices"] = DefaultDeviceCgroupRules();
  }
  if (const Json* host_devices = hc.Raw("Devices")) {
    if (!host_devices->is_array()) {
      return absl::InvalidArgumentError(
          absl::StrCat("HostConfig.Devices: expected an array, got ", JsonTypeName(*host_devices)));
    }
    for (const Json& mapping : *host_devices) {
      Fields fields(mapping, "HostConfig.Devices[]");
      BERTH_RETURN_IF_ERROR(fields.Check());
      BERTH_ASSIGN_OR_RETURN(std::string on_host, fields.Get<std::string>("PathOnHost"));
      BERTH_ASSIGN_OR_RETURN(std::string in_container, fields.Get<std::string>("PathInContainer"));
      BERTH_ASSIGN_OR_RETURN(std::string permissions, fields.Get<std::string>("CgroupPermissions"));
      if (in_container.empty()) in_container = on_host;
      if (permissions.empty() || privileged) permissions = "rwm";
      // Privileged containers already have every host device at its own path.
      if (privileged && on_host == in_container) continue;
      Json ignored_rules = Json::array();
      BERTH_RETURN_IF_ERROR(DevicesFromPath(on_host, in_container, permissions, devices,
                                            privileged ? ignored_rules : resources["devices"]));
    }
  }
  if (!privileged) {
    BERTH_ASSIGN_OR_RETURN(std::vector<std::string> rules,
                           hc.Get<std::vector<std::string>>("DeviceCgroupRules"));
    for (const std::string& rule : rules) {
      BERTH_ASSIGN_OR_RETURN(Json parsed, ParseDeviceCgroupRule(rule));
      resources["devices"].push_back(std::move(parsed));
    }
  }
  BERTH_ASSIGN_OR_RETURN(resources["memory"], MemoryResources(hc));
  BERTH_ASSIGN_OR_RETURN(resources["cpu"], CpuResources(hc));
  BERTH_ASSIGN_OR_RETURN(std::optional<int64_t> pids_limit, hc.Optional<int64_t>("PidsLimit"));
  // The API takes 0 and negative values as "unlimited", which runtimes spell -1.
  if (pids_limit) resources["pids"] = {{"limit", *pids_limit <= 0 ? -1 : *pids_limit}};
  BERTH_ASSIGN_OR_RETURN(int64_t blkio_weight, hc.Get<int64_t>("BlkioWeight"));
  if (blkio_weight != 0 && (blkio_weight < 10 || blkio_weight > 1000)) {
    return absl::InvalidArgumentError("Range of blkio weight is from 10 to 1000");
  }
  resources["blockIO"] = {{"weight", blkio_weight}};
  linux["resources"] = std::move(resources);
  if (!in.cgroups_path.empty()) linux["cgroupsPath"] = in.cgroups_path;
  linux["namespaces"] = Namespaces(modes);
  if (!devices.empty()) linux["devices"] = std::move(devices);

  if (!privileged && security.seccomp != "unconfined") {
    std::optional<Json> seccomp;
    if (security.seccomp.empty() || security.seccomp == "builtin") {
      BERTH_ASSIGN_OR_RETURN(seccomp, LoadSeccompProfile(DefaultSeccompProfileText(), caps, host));
    } else {
      BERTH_ASSIGN_OR_RETURN(seccomp, LoadSeccompProfile(security.seccomp, caps, host));
    }
    if (seccomp) linux["seccomp"] = *std::move(seccomp);
  }

  if (!privileged) {
    BERTH_ASSIGN_OR_RETURN(std::optional<std::vector<std::string>> masked,
                           hc.Optional<std::vector<std::string>>("MaskedPaths"));
    BERTH_ASSIGN_OR_RETURN(std::optional<std::vector<std::string>> readonly,
                           hc.Optional<std::vector<std::string>>("ReadonlyPaths"));
    linux["maskedPaths"] = masked.value_or(DefaultMaskedPaths());
    linux["readonlyPaths"] = readonly.value_or(DefaultReadonlyPaths());
  }

  Json spec = {{"ociVersion", "1.0.2-dev"},
               {"process", std::move(process)},
               {"root", {{"path", "rootfs"}, {"readonly", readonly_rootfs}}},
               {"mounts", std::move(mounts)},
               {"linux", std::move(linux)}};
  // A host UTS namespace keeps the host's name: the runtime must not set one.
  if (!modes.host_uts) spec["hostname"] = hostname;
  return spec;
}

}  // namespace berth::engine::spec
