#include "common/oci/runtime_spec.h"

#include <functional>

#include "absl/strings/str_cat.h"
#include "common/fd_util.h"
#include "common/status.h"

namespace berth::oci {
namespace {

// Reads members of one JSON object, remembering the first error. Absent or null
// members leave the output untouched; a member of the wrong type is an error
// that names its full path ("linux.resources.memory.limit").
class ObjectReader {
 public:
  ObjectReader(const Json& json, std::string path) : json_(json), path_(std::move(path)) {
    if (!json_.is_object()) {
      status_ = absl::InvalidArgumentError(absl::StrCat(
          path_.empty() ? "config" : path_, ": expected an object, got ", JsonTypeName(json_)));
    }
  }

  std::string PathOf(absl::string_view key) const {
    return path_.empty() ? std::string(key) : absl::StrCat(path_, ".", key);
  }

  const Json* Find(absl::string_view key) const {
    if (!status_.ok()) return nullptr;
    auto it = json_.find(std::string(key));
    if (it == json_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  template <typename T>
  void Get(absl::string_view key, T& out) {
    const Json* member = Find(key);
    if (member == nullptr) return;
    Take(JsonAs<T>(*member, PathOf(key)), out);
  }

  template <typename T>
  void Get(absl::string_view key, std::optional<T>& out) {
    const Json* member = Find(key);
    if (member == nullptr) return;
    auto value = JsonAs<T>(*member, PathOf(key));
    if (!value.ok()) return Fail(value.status());
    out = *std::move(value);
  }

  template <typename T>
  void Require(absl::string_view key, T& out) {
    if (!status_.ok()) return;
    if (Find(key) == nullptr) return Fail(absl::InvalidArgumentError(PathOf(key) + ": missing"));
    Get(key, out);
  }

  // A nested object parsed by `parse`.
  template <typename T>
  void Object(absl::string_view key, T& out,
              const std::function<absl::StatusOr<T>(const Json&, const std::string&)>& parse) {
    const Json* member = Find(key);
    if (member == nullptr) return;
    Take(parse(*member, PathOf(key)), out);
  }
  template <typename T>
  void Object(absl::string_view key, std::optional<T>& out,
              const std::function<absl::StatusOr<T>(const Json&, const std::string&)>& parse) {
    const Json* member = Find(key);
    if (member == nullptr) return;
    auto value = parse(*member, PathOf(key));
    if (!value.ok()) return Fail(value.status());
    out = *std::move(value);
  }

  // An array of objects, each parsed by `parse`.
  template <typename T>
  void Array(absl::string_view key, std::vector<T>& out,
             const std::function<absl::StatusOr<T>(const Json&, const std::string&)>& parse) {
    const Json* member = Find(key);
    if (member == nullptr) return;
    if (!member->is_array()) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat(PathOf(key), ": expected an array, got ", JsonTypeName(*member))));
    }
    for (size_t i = 0; i < member->size(); ++i) {
      auto value = parse((*member)[i], absl::StrCat(PathOf(key), "[", i, "]"));
      if (!value.ok()) return Fail(value.status());
      out.push_back(*std::move(value));
    }
  }

  void Fail(absl::Status status) {
    if (status_.ok()) status_ = std::move(status);
  }
  const absl::Status& status() const { return status_; }

 private:
  template <typename T>
  void Take(absl::StatusOr<T> value, T& out) {
    if (!value.ok()) return Fail(value.status());
    out = *std::move(value);
  }

  const Json& json_;
  std::string path_;
  absl::Status status_;
};

template <typename T>
absl::StatusOr<T> Done(const ObjectReader& reader, T value) {
  if (!reader.status().ok()) return reader.status();
  return value;
}

absl::StatusOr<User> ParseUser(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  User u;
  r.Get("uid", u.uid);
  r.Get("gid", u.gid);
  r.Get("umask", u.umask);
  r.Get("additionalGids", u.additional_gids);
  return Done(r, u);
}

absl::StatusOr<Capabilities> ParseCapabilities(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  Capabilities c;
  r.Get("bounding", c.bounding);
  r.Get("effective", c.effective);
  r.Get("inheritable", c.inheritable);
  r.Get("permitted", c.permitted);
  r.Get("ambient", c.ambient);
  return Done(r, c);
}

absl::StatusOr<Rlimit> ParseRlimit(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  Rlimit l;
  r.Require("type", l.type);
  r.Require("hard", l.hard);
  r.Require("soft", l.soft);
  return Done(r, l);
}

absl::StatusOr<ConsoleSize> ParseConsoleSize(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  ConsoleSize c;
  r.Get("height", c.height);
  r.Get("width", c.width);
  return Done(r, c);
}

absl::StatusOr<Root> ParseRoot(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  Root root;
  r.Require("path", root.path);
  r.Get("readonly", root.readonly);
  return Done(r, root);
}

absl::StatusOr<Mount> ParseMount(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  Mount m;
  r.Require("destination", m.destination);
  r.Get("type", m.type);
  r.Get("source", m.source);
  r.Get("options", m.options);
  if (r.status().ok() && (m.destination.empty() || m.destination[0] != '/')) {
    r.Fail(absl::InvalidArgumentError(
        absl::StrCat(path, ".destination: \"", m.destination, "\" is not an absolute path")));
  }
  return Done(r, m);
}

absl::StatusOr<Hook> ParseHook(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  Hook h;
  r.Require("path", h.path);
  r.Get("args", h.args);
  r.Get("env", h.env);
  r.Get("timeout", h.timeout);
  if (r.status().ok() && h.timeout && *h.timeout <= 0) {
    r.Fail(absl::InvalidArgumentError(absl::StrCat(path, ".timeout: must be positive")));
  }
  return Done(r, h);
}

absl::StatusOr<Hooks> ParseHooks(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  Hooks h;
  r.Array<Hook>("prestart", h.prestart, ParseHook);
  r.Array<Hook>("createRuntime", h.create_runtime, ParseHook);
  r.Array<Hook>("createContainer", h.create_container, ParseHook);
  r.Array<Hook>("startContainer", h.start_container, ParseHook);
  r.Array<Hook>("poststart", h.poststart, ParseHook);
  r.Array<Hook>("poststop", h.poststop, ParseHook);
  return Done(r, h);
}

absl::StatusOr<Namespace> ParseNamespace(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  Namespace ns;
  r.Require("type", ns.type);
  r.Get("path", ns.path);
  static const char* const kKnown[] = {"pid", "network", "mount",  "ipc",
                                       "uts", "user",    "cgroup", "time"};
  if (r.status().ok() &&
      std::find(std::begin(kKnown), std::end(kKnown), ns.type) == std::end(kKnown)) {
    r.Fail(absl::InvalidArgumentError(
        absl::StrCat(path, ".type: unknown namespace type \"", ns.type, "\"")));
  }
  return Done(r, ns);
}

absl::StatusOr<IdMapping> ParseIdMapping(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  IdMapping m;
  r.Require("containerID", m.container_id);
  r.Require("hostID", m.host_id);
  r.Require("size", m.size);
  return Done(r, m);
}

absl::StatusOr<Device> ParseDevice(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  Device d;
  r.Require("type", d.type);
  r.Require("path", d.path);
  r.Get("major", d.major);
  r.Get("minor", d.minor);
  r.Get("fileMode", d.file_mode);
  r.Get("uid", d.uid);
  r.Get("gid", d.gid);
  if (r.status().ok() && d.type != "c" && d.type != "b" && d.type != "u" && d.type != "p") {
    r.Fail(absl::InvalidArgumentError(
        absl::StrCat(path, ".type: unknown device type \"", d.type, "\" (want c, b, u or p)")));
  }
  return Done(r, d);
}

absl::StatusOr<DeviceCgroupRule> ParseDeviceRule(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  DeviceCgroupRule d;
  r.Require("allow", d.allow);
  r.Get("type", d.type);
  r.Get("major", d.major);
  r.Get("minor", d.minor);
  r.Get("access", d.access);
  if (d.type.empty()) d.type = "a";
  if (d.access.empty()) d.access = "rwm";
  return Done(r, d);
}

absl::StatusOr<MemoryResources> ParseMemory(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  MemoryResources m;
  r.Get("limit", m.limit);
  r.Get("reservation", m.reservation);
  r.Get("swap", m.swap);
  r.Get("kernel", m.kernel);
  r.Get("kernelTCP", m.kernel_tcp);
  r.Get("swappiness", m.swappiness);
  r.Get("disableOOMKiller", m.disable_oom_killer);
  return Done(r, m);
}

absl::StatusOr<CpuResources> ParseCpu(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  CpuResources c;
  r.Get("shares", c.shares);
  r.Get("quota", c.quota);
  r.Get("period", c.period);
  r.Get("realtimeRuntime", c.realtime_runtime);
  r.Get("realtimePeriod", c.realtime_period);
  r.Get("cpus", c.cpus);
  r.Get("mems", c.mems);
  r.Get("idle", c.idle);
  return Done(r, c);
}

absl::StatusOr<PidsResources> ParsePids(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  PidsResources p;
  r.Require("limit", p.limit);
  return Done(r, p);
}

absl::StatusOr<BlockIoDevice> ParseBlockIoDevice(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  BlockIoDevice d;
  r.Require("major", d.major);
  r.Require("minor", d.minor);
  r.Get("weight", d.weight);
  r.Get("leafWeight", d.leaf_weight);
  r.Get("rate", d.rate);
  return Done(r, d);
}

absl::StatusOr<BlockIoResources> ParseBlockIo(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  BlockIoResources b;
  r.Get("weight", b.weight);
  r.Get("leafWeight", b.leaf_weight);
  r.Array<BlockIoDevice>("weightDevice", b.weight_device, ParseBlockIoDevice);
  r.Array<BlockIoDevice>("throttleReadBpsDevice", b.throttle_read_bps_device, ParseBlockIoDevice);
  r.Array<BlockIoDevice>("throttleWriteBpsDevice", b.throttle_write_bps_device, ParseBlockIoDevice);
  r.Array<BlockIoDevice>("throttleReadIOPSDevice", b.throttle_read_iops_device, ParseBlockIoDevice);
  r.Array<BlockIoDevice>("throttleWriteIOPSDevice", b.throttle_write_iops_device,
                         ParseBlockIoDevice);
  return Done(r, b);
}

absl::StatusOr<HugepageLimit> ParseHugepageLimit(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  HugepageLimit h;
  r.Require("pageSize", h.page_size);
  r.Require("limit", h.limit);
  return Done(r, h);
}

absl::StatusOr<SeccompArg> ParseSeccompArg(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  SeccompArg a;
  r.Require("index", a.index);
  r.Require("value", a.value);
  r.Get("valueTwo", a.value_two);
  r.Require("op", a.op);
  return Done(r, a);
}

absl::StatusOr<SeccompSyscall> ParseSeccompSyscall(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  SeccompSyscall s;
  r.Require("names", s.names);
  r.Require("action", s.action);
  r.Get("errnoRet", s.errno_ret);
  r.Array<SeccompArg>("args", s.args, ParseSeccompArg);
  return Done(r, s);
}

absl::StatusOr<Seccomp> ParseSeccomp(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  Seccomp s;
  r.Require("defaultAction", s.default_action);
  r.Get("defaultErrnoRet", s.default_errno_ret);
  r.Get("architectures", s.architectures);
  r.Get("flags", s.flags);
  r.Get("listenerPath", s.listener_path);
  r.Array<SeccompSyscall>("syscalls", s.syscalls, ParseSeccompSyscall);
  return Done(r, s);
}

absl::StatusOr<Linux> ParseLinux(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  Linux l;
  r.Array<Namespace>("namespaces", l.namespaces, ParseNamespace);
  r.Array<IdMapping>("uidMappings", l.uid_mappings, ParseIdMapping);
  r.Array<IdMapping>("gidMappings", l.gid_mappings, ParseIdMapping);
  r.Array<Device>("devices", l.devices, ParseDevice);
  r.Get("cgroupsPath", l.cgroups_path);
  r.Object<Resources>("resources", l.resources, ParseResources);
  r.Get("rootfsPropagation", l.rootfs_propagation);
  r.Get("maskedPaths", l.masked_paths);
  r.Get("readonlyPaths", l.readonly_paths);
  r.Get("sysctl", l.sysctl);
  r.Object<Seccomp>("seccomp", l.seccomp, ParseSeccomp);
  r.Get("mountLabel", l.mount_label);
  static const char* const kPropagation[] = {"",        "shared",     "slave",
                                             "private", "unbindable", "rshared",
                                             "rslave",  "rprivate",   "runbindable"};
  if (r.status().ok() && std::find(std::begin(kPropagation), std::end(kPropagation),
                                   l.rootfs_propagation) == std::end(kPropagation)) {
    r.Fail(absl::InvalidArgumentError(absl::StrCat(
        path, ".rootfsPropagation: unknown propagation \"", l.rootfs_propagation, "\"")));
  }
  return Done(r, l);
}

}  // namespace

absl::StatusOr<Resources> ParseResources(const Json& j, absl::string_view path) {
  ObjectReader r(j, std::string(path));
  Resources res;
  r.Array<DeviceCgroupRule>("devices", res.devices, ParseDeviceRule);
  r.Object<MemoryResources>("memory", res.memory, ParseMemory);
  r.Object<CpuResources>("cpu", res.cpu, ParseCpu);
  r.Object<PidsResources>("pids", res.pids, ParsePids);
  r.Object<BlockIoResources>("blockIO", res.block_io, ParseBlockIo);
  r.Array<HugepageLimit>("hugepageLimits", res.hugepage_limits, ParseHugepageLimit);
  r.Get("unified", res.unified);
  return Done(r, res);
}

absl::StatusOr<Process> ParseProcess(const Json& j, absl::string_view path) {
  ObjectReader r(j, std::string(path));
  Process p;
  r.Get("terminal", p.terminal);
  r.Object<ConsoleSize>("consoleSize", p.console_size, ParseConsoleSize);
  r.Object<User>("user", p.user, ParseUser);
  r.Get("args", p.args);
  r.Get("env", p.env);
  r.Get("cwd", p.cwd);
  r.Object<Capabilities>("capabilities", p.capabilities, ParseCapabilities);
  r.Array<Rlimit>("rlimits", p.rlimits, ParseRlimit);
  r.Get("noNewPrivileges", p.no_new_privileges);
  r.Get("oomScoreAdj", p.oom_score_adj);
  r.Get("apparmorProfile", p.apparmor_profile);
  r.Get("selinuxLabel", p.selinux_label);
  if (r.status().ok() && p.args.empty()) {
    r.Fail(absl::InvalidArgumentError(absl::StrCat(r.PathOf("args"), ": must not be empty")));
  }
  if (r.status().ok() && (p.cwd.empty() || p.cwd[0] != '/')) {
    r.Fail(absl::InvalidArgumentError(
        absl::StrCat(r.PathOf("cwd"), ": \"", p.cwd, "\" is not an absolute path")));
  }
  return Done(r, p);
}

absl::StatusOr<Spec> ParseSpec(absl::string_view text, absl::string_view what) {
  BERTH_ASSIGN_OR_RETURN(Json json, ParseJson(text, what));
  ObjectReader r(json, "");
  Spec spec;
  r.Require("ociVersion", spec.oci_version);
  r.Object<Process>("process", spec.process,
                    [](const Json& j, const std::string& p) { return ParseProcess(j, p); });
  r.Object<Root>("root", spec.root, ParseRoot);
  r.Get("hostname", spec.hostname);
  r.Get("domainname", spec.domainname);
  r.Array<Mount>("mounts", spec.mounts, ParseMount);
  r.Object<Hooks>("hooks", spec.hooks, ParseHooks);
  r.Get("annotations", spec.annotations);
  r.Object<Linux>("linux", spec.linux, ParseLinux);
  if (r.status().ok() && spec.root.path.empty()) {
    r.Fail(absl::InvalidArgumentError("root.path: missing"));
  }
  if (!r.status().ok()) return Annotate(r.status(), what);
  return spec;
}

absl::StatusOr<Spec> LoadSpec(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseSpec(text, path);
}

}  // namespace berth::oci
