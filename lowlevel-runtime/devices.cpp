#include "lowlevel-runtime/devices.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "lowlevel-runtime/rootfs_path.h"

namespace berth::oci {

std::vector<Device> DefaultDevices() {
  auto dev = [](const char* path, int64_t major, int64_t minor) {
    Device d;
    d.type = "c";
    d.path = path;
    d.major = major;
    d.minor = minor;
    d.file_mode = 0666;
    d.uid = 0;
    d.gid = 0;
    return d;
  };
  return {dev("/dev/null", 1, 3),   dev("/dev/zero", 1, 5),    dev("/dev/full", 1, 7),
          dev("/dev/random", 1, 8), dev("/dev/urandom", 1, 9), dev("/dev/tty", 5, 0)};
}

std::vector<DeviceCgroupRule> DefaultAllowedDeviceRules() {
  auto rule = [](const char* type, std::optional<int64_t> major, std::optional<int64_t> minor,
                 const char* access) {
    DeviceCgroupRule r;
    r.allow = true;
    r.type = type;
    r.major = major;
    r.minor = minor;
    r.access = access;
    return r;
  };
  return {rule("c", std::nullopt, std::nullopt, "m"),
          rule("b", std::nullopt, std::nullopt, "m"),
          rule("c", 1, 3, "rwm"),
          rule("c", 1, 8, "rwm"),
          rule("c", 1, 7, "rwm"),
          rule("c", 5, 0, "rwm"),
          rule("c", 1, 5, "rwm"),
          rule("c", 1, 9, "rwm"),
          rule("c", 5, 1, "rwm"),
          rule("c", 136, std::nullopt, "rwm"),
          rule("c", 5, 2, "rwm"),
          rule("c", 10, 200, "rwm")};
}

Resources EffectiveResources(const Spec& spec) {
  Resources resources = spec.linux.resources.value_or(Resources{});
  std::vector<DeviceCgroupRule> defaults = DefaultAllowedDeviceRules();
  resources.devices.insert(resources.devices.end(), defaults.begin(), defaults.end());
  for (const Device& device : spec.linux.devices) {
    DeviceCgroupRule r;
    r.allow = true;
    r.type = device.type == "u" ? "c" : device.type;
    r.major = device.major;
    r.minor = device.minor;
    r.access = "rwm";
    if (r.type != "p") resources.devices.push_back(r);
  }
  return resources;
}

namespace {

absl::Status BindHostDevice(int rootfs_fd, const Device& device) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd target, CreateFileInRoot(rootfs_fd, device.path));
  if (::mount(device.path.c_str(), ProcFdPath(target.Get()).c_str(), nullptr, MS_BIND, nullptr) !=
      0) {
    return LastErrnoError(absl::StrCat("bind mount device ", device.path));
  }
  return absl::OkStatus();
}

absl::Status MakeDeviceNode(int rootfs_fd, const Device& device) {
  std::string parent_path = device.path.substr(0, device.path.rfind('/'));
  std::string name = device.path.substr(device.path.rfind('/') + 1);
  BERTH_ASSIGN_OR_RETURN(UniqueFd parent,
                         MkdirAllInRoot(rootfs_fd, parent_path.empty() ? "/" : parent_path, 0755));
  mode_t type = 0;
  if (device.type == "c" || device.type == "u") type = S_IFCHR;
  if (device.type == "b") type = S_IFBLK;
  if (device.type == "p") type = S_IFIFO;
  mode_t mode = type | (device.file_mode.value_or(0666) & 07777);
  dev_t dev = makedev(static_cast<unsigned>(device.major), static_cast<unsigned>(device.minor));
  // A file already there (from the image) is replaced: the node must be what the spec says.
  if (::unlinkat(parent.Get(), name.c_str(), 0) != 0 && errno != ENOENT) {
    return LastErrnoError(absl::StrCat("remove ", device.path));
  }
  if (::mknodat(parent.Get(), name.c_str(), mode, dev) != 0) {
    return LastErrnoError(absl::StrCat("mknod ", device.path));
  }
  // mknod honours the umask; set the mode and owner exactly.
  if (::fchmodat(parent.Get(), name.c_str(), mode & 07777, 0) != 0) {
    return LastErrnoError(absl::StrCat("chmod ", device.path));
  }
  if (::fchownat(parent.Get(), name.c_str(), device.uid.value_or(0), device.gid.value_or(0),
                 AT_SYMLINK_NOFOLLOW) != 0) {
    return LastErrnoError(absl::StrCat("chown ", device.path));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CreateDevices(int rootfs_fd, const std::vector<Device>& devices, bool bind_from_host) {
  for (const Device& device : devices) {
    if (device.path.rfind("/dev/", 0) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("linux.devices: \"", device.path, "\" is not under /dev"));
    }
    absl::Status st =
        bind_from_host ? BindHostDevice(rootfs_fd, device) : MakeDeviceNode(rootfs_fd, device);
    BERTH_RETURN_IF_ERROR(st);
  }
  return absl::OkStatus();
}

absl::Status CreateDevSymlinks(int rootfs_fd) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd dev, MkdirAllInRoot(rootfs_fd, "/dev", 0755));
  const std::pair<const char*, const char*> links[] = {
      {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
      {"/proc/self/fd/2", "stderr"}, {"/proc/kcore", "core"},      {"pts/ptmx", "ptmx"}};
  for (const auto& [target, name] : links) {
    if (std::string(name) == "ptmx") {
      // ptmx from the container's own devpts instance replaces any node there.
      struct stat st;
      if (::fstatat(dev.Get(), name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISLNK(st.st_mode)) {
        ::unlinkat(dev.Get(), name, 0);
      }
    }
    if (::symlinkat(target, dev.Get(), name) != 0 && errno != EEXIST) {
      return LastErrnoError(absl::StrCat("symlink /dev/", name, " -> ", target));
    }
  }
  return absl::OkStatus();
}

}  // namespace berth::oci
