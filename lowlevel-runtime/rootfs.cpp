#include "lowlevel-runtime/rootfs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/fd_util.h"
#include "common/status.h"
#include "lowlevel-runtime/cgroups/cgroup_layout.h"
#include "lowlevel-runtime/devices.h"
#include "lowlevel-runtime/mount_options.h"
#include "lowlevel-runtime/rootfs_path.h"

namespace berth::oci {
namespace {

absl::Status DoMount(const std::string& source, const std::string& target, const char* fstype,
                     unsigned long flags, const std::string& data, const std::string& what) {
  if (::mount(source.empty() ? nullptr : source.c_str(), target.c_str(), fstype, flags,
              data.empty() ? nullptr : data.c_str()) != 0) {
    return LastErrnoError(what);
  }
  return absl::OkStatus();
}

// MS_REMOUNT of a bind mount must keep the flags the kernel locked on it
// (e.g. nodev of a mount from a less privileged namespace); retry with them.
absl::Status RemountBind(const std::string& target, unsigned long flags, const std::string& what) {
  unsigned long base = MS_REMOUNT | MS_BIND;
  if (::mount(nullptr, target.c_str(), nullptr, base | flags, nullptr) == 0) {
    return absl::OkStatus();
  }
  int err = errno;
  struct statvfs sv;
  if (err == EPERM && ::statvfs(target.c_str(), &sv) == 0) {
    unsigned long locked = sv.f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY | MS_NOATIME |
                                        MS_NODIRATIME | MS_RELATIME);
    if (::mount(nullptr, target.c_str(), nullptr, base | flags | locked, nullptr) == 0) {
      return absl::OkStatus();
    }
    err = errno;
  }
  return ErrnoError(err, what);
}

// A "cgroup" mount: cgroup2 on a unified host; on v1 and hybrid hosts a tmpfs
// with one mount per hierarchy, as runc builds it.
absl::Status MountCgroups(int rootfs_fd, const Mount& m, const MountOptions& opts,
                          const RootfsOptions& options) {
  BERTH_ASSIGN_OR_RETURN(CgroupLayout layout, ReadCgroupLayout());
  BERTH_ASSIGN_OR_RETURN(UniqueFd target, MkdirAllInRoot(rootfs_fd, m.destination, 0755));
  std::string where = ProcFdPath(target.Get());
  unsigned long flags = opts.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  if (layout.mode == CgroupMode::kV2) {
    if (options.cgroup_ns) {
      return DoMount("cgroup2", where, "cgroup2", flags, "",
                     absl::StrCat("mount cgroup2 on ", m.destination));
    }
    const CgroupHierarchy& unified = *layout.unified;
    BERTH_RETURN_IF_ERROR(DoMount(CgroupDirIn(unified, unified.own_cgroup), where, nullptr,
                                  MS_BIND | MS_REC, "",
                                  absl::StrCat("bind cgroup2 on ", m.destination)));
    // Reopen: the old descriptor names the directory under the new mount.
    BERTH_ASSIGN_OR_RETURN(target, OpenInRoot(rootfs_fd, m.destination, O_PATH));
    return RemountBind(ProcFdPath(target.Get()), flags, absl::StrCat("remount ", m.destination));
  }
  BERTH_RETURN_IF_ERROR(DoMount("tmpfs", where, "tmpfs", flags & ~MS_RDONLY, "mode=755",
                                absl::StrCat("mount tmpfs on ", m.destination)));
  std::vector<const CgroupHierarchy*> hierarchies;
  for (const CgroupHierarchy& h : layout.v1) hierarchies.push_back(&h);
  if (layout.unified) hierarchies.push_back(&*layout.unified);
  for (const CgroupHierarchy* h : hierarchies) {
    std::string dest = absl::StrCat(m.destination, "/", h->Name());
    BERTH_ASSIGN_OR_RETURN(UniqueFd sub, MkdirAllInRoot(rootfs_fd, dest, 0755));
    std::string subpath = ProcFdPath(sub.Get());
    if (options.cgroup_ns) {
      bool v2 = h->controllers.empty();
      BERTH_RETURN_IF_ERROR(DoMount(v2 ? "cgroup2" : "cgroup", subpath, v2 ? "cgroup2" : "cgroup",
                                    flags, absl::StrJoin(h->controllers, ","),
                                    absl::StrCat("mount cgroup on ", dest)));
    } else {
      BERTH_RETURN_IF_ERROR(DoMount(CgroupDirIn(*h, h->own_cgroup), subpath, nullptr,
                                    MS_BIND | MS_REC, "", absl::StrCat("bind cgroup on ", dest)));
      BERTH_ASSIGN_OR_RETURN(sub, OpenInRoot(rootfs_fd, dest, O_PATH));
      BERTH_RETURN_IF_ERROR(
          RemountBind(ProcFdPath(sub.Get()), flags, absl::StrCat("remount ", dest)));
    }
    // Co-mounted controllers ("cpu,cpuacct") are reachable by each name, as on the host.
    if (h->controllers.size() > 1) {
      BERTH_ASSIGN_OR_RETURN(UniqueFd dir, OpenInRoot(rootfs_fd, m.destination, O_PATH));
      for (const std::string& controller : h->controllers) {
        if (::symlinkat(h->Name().c_str(), dir.Get(), controller.c_str()) != 0 && errno != EEXIST) {
          return LastErrnoError(absl::StrCat("symlink ", m.destination, "/", controller));
        }
      }
    }
  }
  if (flags & MS_RDONLY) {
    // The descriptor from before names the directory under the tmpfs; reopen.
    BERTH_ASSIGN_OR_RETURN(target, OpenInRoot(rootfs_fd, m.destination, O_PATH));
    where = ProcFdPath(target.Get());
    BERTH_RETURN_IF_ERROR(DoMount("", where, nullptr, MS_REMOUNT | flags, "mode=755",
                                  absl::StrCat("remount ", m.destination, " read-only")));
  }
  return absl::OkStatus();
}

absl::Status MountOne(int rootfs_fd, const Mount& m, const RootfsOptions& options) {
  MountOptions opts = ParseMountOptions(m.options);
  if (m.type == "cgroup") return MountCgroups(rootfs_fd, m, opts, options);

  UniqueFd target;
  if (opts.bind) {
    struct stat src;
    if (::stat(m.source.c_str(), &src) != 0) {
      return LastErrnoError(absl::StrCat("bind mount source ", m.source));
    }
    if (S_ISDIR(src.st_mode)) {
      BERTH_ASSIGN_OR_RETURN(target, MkdirAllInRoot(rootfs_fd, m.destination, 0755));
    } else {
      BERTH_ASSIGN_OR_RETURN(target, CreateFileInRoot(rootfs_fd, m.destination));
    }
  } else {
    BERTH_ASSIGN_OR_RETURN(target, MkdirAllInRoot(rootfs_fd, m.destination, 0755));
  }
  std::string where = ProcFdPath(target.Get());
  std::string what =
      absl::StrCat("mount ", m.source.empty() ? m.type : m.source, " on ", m.destination);

  if (opts.bind) {
    BERTH_RETURN_IF_ERROR(
        DoMount(m.source, where, nullptr, MS_BIND | (opts.flags & MS_REC), "", what));
    // Re-resolve: the descriptor still names the directory under the new mount.
    BERTH_ASSIGN_OR_RETURN(target, OpenInRoot(rootfs_fd, m.destination, O_PATH));
    where = ProcFdPath(target.Get());
    unsigned long extra = opts.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
    if (extra != 0) BERTH_RETURN_IF_ERROR(RemountBind(where, extra, absl::StrCat("re", what)));
  } else {
    unsigned long flags = opts.flags & ~MS_REMOUNT;
    absl::Status st = DoMount(m.source, where, m.type.c_str(), flags, opts.data, what);
    // mqueue and sysfs can be refused in some namespace set-ups (a user
    // namespace without a new network namespace): bind the host's instead, as runc.
    if (!st.ok() && ErrnoOf(st) == EPERM && (m.type == "sysfs" || m.type == "mqueue")) {
      std::string host = m.type == "sysfs" ? "/sys" : "/dev/mqueue";
      st = DoMount(host, where, nullptr, MS_BIND | MS_REC, "", what);
      if (st.ok()) st = RemountBind(where, flags & ~MS_REC, absl::StrCat("re", what));
    }
    BERTH_RETURN_IF_ERROR(st);
    BERTH_ASSIGN_OR_RETURN(target, OpenInRoot(rootfs_fd, m.destination, O_PATH));
    where = ProcFdPath(target.Get());
  }
  for (unsigned long propagation : opts.propagation) {
    BERTH_RETURN_IF_ERROR(DoMount("", where, nullptr, propagation, "",
                                  absl::StrCat("set propagation of ", m.destination)));
  }
  if (opts.recursive_readonly) {
    struct mount_attr attr = {};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (::syscall(SYS_mount_setattr, target.Get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
                  sizeof attr) != 0) {
      return LastErrnoError(absl::StrCat("make ", m.destination, " recursively read-only"));
    }
  }
  return absl::OkStatus();
}

bool DevIsBindMounted(const Spec& spec) {
  for (const Mount& m : spec.mounts) {
    if (m.destination == "/dev" && ParseMountOptions(m.options).bind) return true;
  }
  return false;
}

}  // namespace

absl::Status PrepareRootfs(const Spec& spec, const RootfsOptions& options) {
  // Keep our mounts from propagating to the host (and host mounts in, unless asked).
  BERTH_RETURN_IF_ERROR(DoMount("", "/", nullptr,
                                RootfsPropagationFlags(spec.linux.rootfs_propagation), "",
                                "set propagation of /"));
  // pivot_root needs the new root to be a mount point.
  BERTH_RETURN_IF_ERROR(DoMount(options.rootfs, options.rootfs, nullptr, MS_BIND | MS_REC, "",
                                absl::StrCat("bind mount rootfs ", options.rootfs)));
  BERTH_ASSIGN_OR_RETURN(UniqueFd rootfs, OpenFile(options.rootfs, O_PATH | O_DIRECTORY));
  for (const Mount& m : spec.mounts) {
    BERTH_RETURN_IF_ERROR(MountOne(rootfs.Get(), m, options));
  }
  if (!DevIsBindMounted(spec)) {
    std::vector<Device> devices = DefaultDevices();
    devices.insert(devices.end(), spec.linux.devices.begin(), spec.linux.devices.end());
    BERTH_RETURN_IF_ERROR(CreateDevices(rootfs.Get(), devices, options.in_user_ns));
    BERTH_RETURN_IF_ERROR(CreateDevSymlinks(rootfs.Get()));
  }
  return absl::OkStatus();
}

absl::Status EnterRootfs(const RootfsOptions& options) {
  if (options.no_pivot) {
    if (::chdir(options.rootfs.c_str()) != 0) return LastErrnoError("chdir to rootfs");
    BERTH_RETURN_IF_ERROR(DoMount(options.rootfs, "/", nullptr, MS_MOVE, "", "move rootfs to /"));
    if (::chroot(".") != 0) return LastErrnoError("chroot to rootfs");
    if (::chdir("/") != 0) return LastErrnoError("chdir /");
    return absl::OkStatus();
  }
  BERTH_ASSIGN_OR_RETURN(UniqueFd old_root, OpenFile("/", O_DIRECTORY | O_RDONLY));
  BERTH_ASSIGN_OR_RETURN(UniqueFd new_root, OpenFile(options.rootfs, O_DIRECTORY | O_RDONLY));
  if (::fchdir(new_root.Get()) != 0) return LastErrnoError("chdir to rootfs");
  // pivot_root(".", ".") stacks the old root on top of the new one; unmount it.
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return LastErrnoError("pivot_root");
  if (::fchdir(old_root.Get()) != 0) return LastErrnoError("chdir to old root");
  BERTH_RETURN_IF_ERROR(DoMount("", ".", nullptr, MS_SLAVE | MS_REC, "", "make old root rslave"));
  if (::umount2(".", MNT_DETACH) != 0) return LastErrnoError("unmount old root");
  if (::chdir("/") != 0) return LastErrnoError("chdir /");
  return absl::OkStatus();
}

absl::Status ChrootOnly(const RootfsOptions& options) {
  if (::chroot(options.rootfs.c_str()) != 0) return LastErrnoError("chroot to rootfs");
  if (::chdir("/") != 0) return LastErrnoError("chdir /");
  return absl::OkStatus();
}

absl::Status FinalizeRootfs(const Spec& spec) {
  for (const auto& [key, value] : spec.linux.sysctl) {
    std::string path = absl::StrCat("/proc/sys/", absl::StrReplaceAll(key, {{".", "/"}}));
    absl::Status st = WriteStringToFile(path, value);
    if (!st.ok()) return Annotate(st, absl::StrCat("linux.sysctl \"", key, "\""));
  }
  BERTH_ASSIGN_OR_RETURN(UniqueFd root, OpenFile("/", O_PATH | O_DIRECTORY));
  for (const std::string& path : spec.linux.readonly_paths) {
    auto target = OpenInRoot(root.Get(), path, O_PATH);
    if (!target.ok()) {
      if (target.status().code() == absl::StatusCode::kNotFound) continue;
      return target.status();
    }
    std::string where = ProcFdPath(target->Get());
    BERTH_RETURN_IF_ERROR(DoMount(where, where, nullptr, MS_BIND | MS_REC, "",
                                  absl::StrCat("bind ", path, " read-only")));
    BERTH_ASSIGN_OR_RETURN(UniqueFd bound, OpenInRoot(root.Get(), path, O_PATH));
    BERTH_RETURN_IF_ERROR(RemountBind(ProcFdPath(bound.Get()),
                                      MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                      absl::StrCat("remount ", path, " read-only")));
  }
  for (const std::string& path : spec.linux.masked_paths) {
    auto target = OpenInRoot(root.Get(), path, O_PATH);
    if (!target.ok()) {
      if (target.status().code() == absl::StatusCode::kNotFound) continue;
      return target.status();
    }
    struct stat st;
    if (::fstat(target->Get(), &st) != 0) return LastErrnoError(absl::StrCat("stat ", path));
    std::string where = ProcFdPath(target->Get());
    if (S_ISDIR(st.st_mode)) {
      BERTH_RETURN_IF_ERROR(
          DoMount("tmpfs", where, "tmpfs", MS_RDONLY, "", absl::StrCat("mask ", path)));
    } else {
      BERTH_RETURN_IF_ERROR(
          DoMount("/dev/null", where, nullptr, MS_BIND, "", absl::StrCat("mask ", path)));
    }
  }
  if (spec.root.readonly) {
    BERTH_RETURN_IF_ERROR(RemountBind("/", MS_RDONLY, "remount root read-only"));
  }
  return absl::OkStatus();
}

}  // namespace berth::oci
