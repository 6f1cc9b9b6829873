#include "engine/spec/default_profile.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace berth::engine::spec {
namespace {

Json CgroupRule(bool allow, const char* type, int64_t major, int64_t minor) {
  Json rule = {{"allow", allow}};
  if (type != nullptr) rule["type"] = type;
  if (major != 0 || minor != 0) {
    rule["major"] = major;
    rule["minor"] = minor;
  }
  rule["access"] = "rwm";
  return rule;
}

// A device node as a linux.devices entry; nullopt for anything else.
std::optional<Json> DeviceEntry(const std::string& path, const std::string& path_in_container) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
  const char* type = nullptr;
  if (S_ISCHR(st.st_mode)) type = "c";
  if (S_ISBLK(st.st_mode)) type = "b";
  if (type == nullptr) return std::nullopt;
  return Json{{"path", path_in_container},
              {"type", type},
              {"major", static_cast<int64_t>(major(st.st_rdev))},
              {"minor", static_cast<int64_t>(minor(st.st_rdev))},
              {"fileMode", static_cast<uint32_t>(st.st_mode & 07777)},
              {"uid", static_cast<uint32_t>(st.st_uid)},
              {"gid", static_cast<uint32_t>(st.st_gid)}};
}

Json AllowRule(const Json& device, const std::string& access) {
  return {{"allow", true},
          {"type", device["type"]},
          {"major", device["major"]},
          {"minor", device["minor"]},
          {"access", access}};
}

absl::Status WalkDevices(const std::filesystem::path& dir, Json& out) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return ErrnoError(ec.value(), absl::StrCat("read directory ", dir.string()));
  std::vector<std::filesystem::path> entries;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) return ErrnoError(ec.value(), absl::StrCat("read directory ", dir.string()));
    entries.push_back(it->path());
  }
  std::sort(entries.begin(), entries.end());
  for (const std::filesystem::path& path : entries) {
    const std::string name = path.filename().string();
    std::filesystem::file_status status = std::filesystem::symlink_status(path, ec);
    if (ec) continue;  // gone meanwhile
    if (std::filesystem::is_directory(status)) {
      // As containerd's HostDevices: these hold per-container or special nodes.
      if (name == "pts" || name == "shm" || name == "fd" || name == "mqueue" || name == ".lxc" ||
          name == ".lxd-mounts" || name == ".udev") {
        continue;
      }
      BERTH_RETURN_IF_ERROR(WalkDevices(path, out));
      continue;
    }
    if (name == "console") continue;
    if (auto device = DeviceEntry(path.string(), path.string())) out.push_back(*std::move(device));
  }
  return absl::OkStatus();
}

}  // namespace

Json DefaultMounts() {
  return Json::array({
      {{"destination", "/proc"},
       {"type", "proc"},
       {"source", "proc"},
       {"options", {"nosuid", "noexec", "nodev"}}},
      {{"destination", "/dev"},
       {"type", "tmpfs"},
       {"source", "tmpfs"},
       {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
      {{"destination", "/dev/pts"},
       {"type", "devpts"},
       {"source", "devpts"},
       {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
      {{"destination", "/sys"},
       {"type", "sysfs"},
       {"source", "sysfs"},
       {"options", {"nosuid", "noexec", "nodev", "ro"}}},
      {{"destination", "/sys/fs/cgroup"},
       {"type", "cgroup"},
       {"source", "cgroup"},
       {"options", {"ro", "nosuid", "noexec", "nodev"}}},
      {{"destination", "/dev/mqueue"},
       {"type", "mqueue"},
       {"source", "mqueue"},
       {"options", {"nosuid", "noexec", "nodev"}}},
      {{"destination", "/dev/shm"},
       {"type", "tmpfs"},
       {"source", "shm"},
       {"options", {"nosuid", "noexec", "nodev", "mode=1777"}}},
  });
}

std::vector<std::string> DefaultMaskedPaths() {
  return {"/proc/asound",        "/proc/acpi",       "/proc/kcore",       "/proc/keys",
          "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
          "/proc/scsi",          "/sys/firmware"};
}

std::vector<std::string> DefaultReadonlyPaths() {
  return {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
}

Json DefaultDeviceCgroupRules() {
  return Json::array({CgroupRule(false, nullptr, 0, 0), CgroupRule(true, "c", 1, 5),
                      CgroupRule(true, "c", 1, 3), CgroupRule(true, "c", 1, 9),
                      CgroupRule(true, "c", 1, 8), CgroupRule(true, "c", 5, 0),
                      CgroupRule(true, "c", 5, 1), CgroupRule(false, "c", 10, 229)});
}

absl::StatusOr<Json> HostDevices(const std::string& dev_dir) {
  Json devices = Json::array();
  BERTH_RETURN_IF_ERROR(WalkDevices(dev_dir, devices));
  return devices;
}

absl::Status DevicesFromPath(const std::string& path_on_host, const std::string& path_in_container,
                             const std::string& permissions, Json& devices, Json& rules) {
  // A symlink on the host (/dev/disk/by-id/...) is followed to its node.
  std::error_code ec;
  std::string resolved = path_on_host;
  if (std::filesystem::is_symlink(path_on_host, ec)) {
    std::filesystem::path target = std::filesystem::canonical(path_on_host, ec);
    if (!ec) resolved = target.string();
  }
  if (auto device = DeviceEntry(resolved, path_in_container)) {
    rules.push_back(AllowRule(*device, permissions));
    devices.push_back(*std::move(device));
    return absl::OkStatus();
  }
  bool found = false;
  if (std::filesystem::is_directory(resolved, ec)) {
    Json children = Json::array();
    if (WalkDevices(resolved, children).ok()) {
      for (Json& child : children) {
        std::string path = child["path"];
        child["path"] = path_in_container + path.substr(resolved.size());
        rules.push_back(AllowRule(child, permissions));
        devices.push_back(std::move(child));
        found = true;
      }
    }
  }
  if (found) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("error gathering device information while adding custom device \"", path_on_host,
                   "\": not a device node"));
}

absl::StatusOr<Json> ParseDeviceCgroupRule(const std::string& rule) {
  static const std::regex* const pattern =
      new std::regex(R"(^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$)");
  std::smatch match;
  if (!std::regex_match(rule, match, *pattern)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid device cgroup rule format: '", rule, "'"));
  }
  auto number = [&](const std::string& text, const char* what) -> absl::StatusOr<int64_t> {
    if (text == "*") return -1;  // moby's wildcard; runtimes read a negative number as "*"
    int64_t value = 0;
    if (!absl::SimpleAtoi(text, &value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid ", what, " value in device cgroup rule format: '", rule, "'"));
    }
    return value;
  };
  BERTH_ASSIGN_OR_RETURN(int64_t major_number, number(match[2].str(), "major"));
  BERTH_ASSIGN_OR_RETURN(int64_t minor_number, number(match[3].str(), "minor"));
  return Json{{"allow", true},
              {"type", match[1].str()},
              {"major", major_number},
              {"minor", minor_number},
              {"access", match[4].str()}};
}

}  // namespace berth::engine::spec
