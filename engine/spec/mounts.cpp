#include "engine/spec/mounts.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status.h"
#include "engine/spec/default_profile.h"

namespace berth::engine::spec {
namespace {

constexpr char kDefaultPropagation[] = "rprivate";

// moby/sys/mount's flag table, reduced to what MergeTmpfsOptions needs: which
// flag an option sets or clears (options of one kind collide).
const std::map<std::string, std::string>& FlagKinds() {
  static const auto* const kinds = new std::map<std::string, std::string>{
      {"ro", "rdonly"},
      {"rw", "rdonly"},
      {"suid", "nosuid"},
      {"nosuid", "nosuid"},
      {"dev", "nodev"},
      {"nodev", "nodev"},
      {"exec", "noexec"},
      {"noexec", "noexec"},
      {"sync", "sync"},
      {"async", "sync"},
      {"dirsync", "dirsync"},
      {"remount", "remount"},
      {"mand", "mand"},
      {"nomand", "mand"},
      {"atime", "noatime"},
      {"noatime", "noatime"},
      {"diratime", "nodiratime"},
      {"nodiratime", "nodiratime"},
      {"bind", "bind"},
      {"rbind", "rbind"},
      {"relatime", "relatime"},
      {"norelatime", "relatime"},
      {"strictatime", "strictatime"},
      {"nostrictatime", "strictatime"},
      // One propagation mode at most.
      {"unbindable", "propagation"},
      {"runbindable", "propagation"},
      {"private", "propagation"},
      {"rprivate", "propagation"},
      {"shared", "propagation"},
      {"rshared", "propagation"},
      {"slave", "propagation"},
      {"rslave", "propagation"},
  };
  return *kinds;
}

bool IsPropagation(const std::string& mode) {
  auto it = FlagKinds().find(mode);
  return it != FlagKinds().end() && it->second == "propagation";
}

// moby's ValidateMountMode: rw|ro, z|Z, a propagation, nocopy and a consistency
// hint, each at most once.
bool ValidBindMode(const std::string& mode) {
  if (mode.empty()) return false;
  int rw = 0, label = 0, propagation = 0, copy = 0, consistency = 0;
  for (absl::string_view part : absl::StrSplit(mode, ',')) {
    std::string o(part);
    if (o == "rw" || o == "ro") {
      ++rw;
    } else if (o == "z" || o == "Z") {
      ++label;
    } else if (IsPropagation(o) && o != "unbindable" && o != "runbindable") {
      ++propagation;
    } else if (o == "nocopy") {
      ++copy;
    } else if (o == "consistent" || o == "cached" || o == "delegated") {
      ++consistency;
    } else {
      return false;
    }
  }
  return rw <= 1 && label <= 1 && propagation <= 1 && copy <= 1 && consistency <= 1;
}

std::string CleanPath(const std::string& path) {
  std::string clean = std::filesystem::path(path).lexically_normal().string();
  while (clean.size() > 1 && clean.back() == '/') clean.pop_back();
  return clean;
}

// The destination check every mount type shares.
absl::StatusOr<std::string> Destination(const std::string& target, const std::string& type,
                                        const std::string& spec) {
  if (target.empty() || target[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid volume specification: '", spec, "': invalid mount config for type \"",
                     type, "\": invalid mount path: '", target, "' mount path must be absolute"));
  }
  std::string clean = CleanPath(target);
  if (clean == "/") {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid volume specification: '", spec, "': invalid mount config for type \"",
                     type, "\": invalid specification: destination can't be '/'"));
  }
  return clean;
}

Json BindMount(const std::string& source, const std::string& destination, bool writable,
               const std::string& propagation, bool recursive) {
  Json options = Json::array({recursive ? "rbind" : "bind"});
  if (!writable) options.push_back("ro");
  options.push_back(propagation.empty() ? kDefaultPropagation : propagation);
  return {{"destination", destination}, {"type", "bind"}, {"source", source}, {"options", options}};
}

absl::StatusOr<Json> TmpfsMount(const std::string& destination, const std::string& data) {
  std::vector<std::string> options = {"noexec", "nosuid", "nodev", kDefaultPropagation};
  if (!data.empty()) {
    for (absl::string_view option : absl::StrSplit(data, ',')) options.emplace_back(option);
  }
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> merged, MergeTmpfsOptions(options));
  return Json{
      {"destination", destination}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", merged}};
}

// moby's ConvertTmpfsOptions for HostConfig.Mounts' TmpfsOptions.
std::string TmpfsData(const Json& options, bool readonly) {
  std::vector<std::string> raw;
  if (readonly) raw.push_back("ro");
  if (options.is_object()) {
    int64_t mode = options.value("Mode", int64_t{0});
    if (mode != 0) {
      char octal[32];
      std::snprintf(octal, sizeof(octal), "%llo", static_cast<unsigned long long>(mode));
      raw.push_back(absl::StrCat("mode=", octal));
    }
    int64_t size = options.value("SizeBytes", int64_t{0});
    if (size != 0) {
      std::string suffix;
      for (const auto& [unit, divisor] : {std::pair<const char*, int64_t>{"g", int64_t{1} << 30},
                                          {"m", int64_t{1} << 20},
                                          {"k", int64_t{1} << 10}}) {
        if (size % divisor == 0) {
          size /= divisor;
          suffix = unit;
          break;
        }
      }
      raw.push_back(absl::StrCat("size=", size, suffix));
    }
  }
  return absl::StrJoin(raw, ",");
}

// One HostConfig.Mounts entry (bind or tmpfs).
absl::StatusOr<Json> ApiMount(const Json& mount) {
  if (!mount.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("HostConfig.Mounts: expected objects, got ", JsonTypeName(mount)));
  }
  const std::string type = mount.value("Type", std::string());
  const std::string source = mount.value("Source", std::string());
  const std::string target = mount.value("Target", std::string());
  const bool readonly = mount.value("ReadOnly", false);
  const std::string spec = absl::StrCat(type, ":", source, ":", target);
  if (type == "bind") {
    if (source.empty() || source[0] != '/') {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid mount config for type \"bind\": invalid mount path: '", source,
                       "' mount path must be absolute"));
    }
    BERTH_ASSIGN_OR_RETURN(std::string destination, Destination(target, type, spec));
    std::string propagation;
    bool recursive = true;
    if (auto it = mount.find("BindOptions"); it != mount.end() && it->is_object()) {
      propagation = it->value("Propagation", std::string());
      recursive = !it->value("NonRecursive", false);
    }
    if (!propagation.empty() && !IsPropagation(propagation)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid mount config for type \"bind\": invalid propagation mode: ", propagation));
    }
    return BindMount(source, destination, !readonly, propagation, recursive);
  }
  if (type == "tmpfs") {
    if (!source.empty()) {
      return absl::InvalidArgumentError(
          "invalid mount config for type \"tmpfs\": field Source must not be specified");
    }
    BERTH_ASSIGN_OR_RETURN(std::string destination, Destination(target, type, spec));
    Json options = mount.contains("TmpfsOptions") ? mount["TmpfsOptions"] : Json();
    return TmpfsMount(destination, TmpfsData(options, readonly));
  }
  if (type == "volume" || type == "npipe" || type == "cluster") {
    return absl::UnimplementedError(
        absl::StrCat("mounts of type \"", type, "\" are not supported yet (", target, ")"));
  }
  return absl::InvalidArgumentError(absl::StrCat("mount type unknown: \"", type, "\""));
}

size_t Depth(const Json& mount) {
  std::string destination = mount["destination"];
  return static_cast<size_t>(std::count(destination.begin(), destination.end(), '/'));
}

void ClearReadonly(Json& mount) {
  Json options = Json::array();
  for (const Json& option : mount["options"]) {
    if (option != "ro") options.push_back(option);
  }
  mount["options"] = std::move(options);
}

}  // namespace

absl::StatusOr<std::vector<std::string>> MergeTmpfsOptions(
    const std::vector<std::string>& options) {
  static const std::set<std::string> kDataKeys = {"size",      "mode",      "uid", "gid",
                                                  "nr_inodes", "nr_blocks", "mpol"};
  std::set<std::string> seen_flags, seen_data;
  std::vector<std::string> merged;
  // Last one wins: walk backwards, keeping the first of each kind seen.
  for (auto it = options.rbegin(); it != options.rend(); ++it) {
    const std::string& option = *it;
    if (option == "defaults") continue;
    if (auto kind = FlagKinds().find(option); kind != FlagKinds().end()) {
      if (seen_flags.insert(kind->second).second) merged.insert(merged.begin(), option);
      continue;
    }
    size_t eq = option.find('=');
    std::string key = option.substr(0, eq);
    if (eq == std::string::npos || kDataKeys.count(key) == 0) {
      std::string quoted = eq == std::string::npos
                               ? absl::StrCat("[\"", option, "\"]")
                               : absl::StrCat("[\"", key, "\" \"", option.substr(eq + 1), "\"]");
      return absl::InvalidArgumentError(absl::StrCat("invalid tmpfs option ", quoted));
    }
    if (seen_data.insert(key).second) merged.insert(merged.begin(), option);
  }
  return merged;
}

absl::StatusOr<Json> ParseBind(const std::string& bind) {
  std::vector<std::string> parts = absl::StrSplit(bind, ':');
  if (parts.empty() || parts[0].empty() || parts.size() > 3) {
    return absl::InvalidArgumentError(absl::StrCat("invalid volume specification: '", bind, "'"));
  }
  std::string source, target, mode;
  if (parts.size() == 1) {
    target = parts[0];
  } else if (parts.size() == 2) {
    if (ValidBindMode(parts[1])) {
      target = parts[0];
      mode = parts[1];
    } else {
      source = parts[0];
      target = parts[1];
    }
  } else {
    source = parts[0];
    target = parts[1];
    mode = parts[2];
    if (!ValidBindMode(mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid volume specification: '", bind, "': invalid mode: ", mode));
    }
  }
  if (source.empty() || source[0] != '/') {
    return absl::UnimplementedError(absl::StrCat(
        "volume \"", bind, "\": named and anonymous volumes are not supported here yet"));
  }
  BERTH_ASSIGN_OR_RETURN(std::string destination, Destination(target, "bind", bind));
  bool writable = true;
  std::string propagation;
  if (!mode.empty()) {
    for (absl::string_view part : absl::StrSplit(mode, ',')) {
      if (part == "ro") writable = false;
      if (IsPropagation(std::string(part))) propagation = std::string(part);
    }
  }
  return BindMount(CleanPath(source), destination, writable, propagation, /*recursive=*/true);
}

absl::StatusOr<Json> ContainerMounts(const MountInputs& in) {
  // Docker's defaults, /dev/shm sized, then docker-init.
  Json defaults = Json::array();
  for (Json& mount : DefaultMounts()) {
    if (mount["destination"] == "/dev/shm") {
      if (in.no_shm) continue;
      mount["options"].push_back(absl::StrCat("size=", in.shm_size));
    }
    defaults.push_back(std::move(mount));
  }
  if (!in.init_path.empty()) {
    defaults.push_back({{"destination", "/sbin/docker-init"},
                        {"type", "bind"},
                        {"source", in.init_path},
                        {"options", {"bind", "ro"}}});
  }

  // The user's mounts in dockerd's order before its depth sort: binds, the
  // network files, tmpfs.
  std::vector<Json> user;
  for (const std::string& bind : in.binds) {
    BERTH_ASSIGN_OR_RETURN(Json mount, ParseBind(bind));
    user.push_back(std::move(mount));
  }
  std::vector<Json> api_tmpfs;
  if (!in.mounts.is_null()) {
    if (!in.mounts.is_array()) {
      return absl::InvalidArgumentError(
          absl::StrCat("HostConfig.Mounts: expected an array, got ", JsonTypeName(in.mounts)));
    }
    for (const Json& entry : in.mounts) {
      BERTH_ASSIGN_OR_RETURN(Json mount, ApiMount(entry));
      (mount["type"] == "tmpfs" ? api_tmpfs : user).push_back(std::move(mount));
    }
  }
  std::set<std::string> bound;
  for (const Json& mount : user) bound.insert(mount["destination"].get<std::string>());
  struct NetworkFile {
    const std::string* path;
    const char* destination;
  };
  for (const NetworkFile& file : {NetworkFile{&in.resolv_conf_path, "/etc/resolv.conf"},
                                  NetworkFile{&in.hostname_path, "/etc/hostname"},
                                  NetworkFile{&in.hosts_path, "/etc/hosts"}}) {
    // A user's own bind of the same file wins.
    if (file.path->empty() || bound.count(file.destination) != 0) continue;
    user.push_back(BindMount(*file.path, file.destination, !in.readonly_rootfs, kDefaultPropagation,
                             /*recursive=*/true));
  }
  if (!in.tmpfs.is_null()) {
    if (!in.tmpfs.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat("HostConfig.Tmpfs: expected an object, got ", JsonTypeName(in.tmpfs)));
    }
    for (const auto& [target, data] : in.tmpfs.items()) {
      if (!data.is_string() && !data.is_null()) {
        return absl::InvalidArgumentError(
            absl::StrCat("HostConfig.Tmpfs[\"", target, "\"]: expected a string"));
      }
      BERTH_ASSIGN_OR_RETURN(std::string destination, Destination(target, "tmpfs", target));
      BERTH_ASSIGN_OR_RETURN(
          Json mount,
          TmpfsMount(destination, data.is_string() ? data.get<std::string>() : std::string()));
      user.push_back(std::move(mount));
    }
  }
  user.insert(user.end(), api_tmpfs.begin(), api_tmpfs.end());

  std::set<std::string> destinations;
  for (const Json& mount : user) {
    std::string destination = mount["destination"];
    if (!destinations.insert(destination).second) {
      return absl::InvalidArgumentError(absl::StrCat("Duplicate mount point: ", destination));
    }
  }
  std::stable_sort(user.begin(), user.end(),
                   [](const Json& a, const Json& b) { return Depth(a) < Depth(b); });

  // Defaults a user mount replaces go, and everything under /dev when the user
  // mounts /dev itself.
  const bool user_dev = destinations.count("/dev") != 0;
  Json mounts = Json::array();
  for (Json& mount : defaults) {
    std::string destination = mount["destination"];
    if (destinations.count(destination) != 0) continue;
    if (user_dev && absl::StartsWith(destination, "/dev/")) continue;
    mounts.push_back(std::move(mount));
  }
  for (Json& mount : user) mounts.push_back(std::move(mount));

  if (in.readonly_rootfs) {
    for (Json& mount : mounts) {
      std::string destination = mount["destination"];
      if (destination == "/proc" || destination == "/dev/pts" || destination == "/dev/shm" ||
          destination == "/dev/mqueue" || destination == "/dev") {
        continue;
      }
      if (destinations.count(destination) != 0) continue;
      if (std::find(mount["options"].begin(), mount["options"].end(), "ro") ==
          mount["options"].end()) {
        mount["options"].push_back("ro");
      }
    }
  }
  if (in.privileged) {
    // /sys and the cgroup filesystem writable.
    for (Json& mount : mounts) {
      if (mount["destination"] == "/sys" || mount["type"] == "cgroup") ClearReadonly(mount);
    }
  }
  return mounts;
}

}  // namespace berth::engine::spec
