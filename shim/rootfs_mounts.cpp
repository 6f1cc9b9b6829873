#include "shim/rootfs_mounts.h"

#include <sys/mount.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "lowlevel-runtime/mount_options.h"

namespace berth::shim {

absl::Status MountRootfs(const std::vector<RootfsMount>& mounts, const std::string& target) {
  for (const RootfsMount& m : mounts) {
    oci::MountOptions options = oci::ParseMountOptions(m.options);
    bool bind = options.bind || m.type == "bind";
    unsigned long flags = options.flags;
    if (bind) flags |= MS_BIND;
    const char* type = bind ? nullptr : m.type.c_str();
    if (::mount(m.source.c_str(), target.c_str(), type, flags & ~MS_RDONLY,
                options.data.empty() ? nullptr : options.data.c_str()) != 0) {
      return LastErrnoError(absl::StrCat("mount ", m.type, " ", m.source, " on ", target, " (",
                                         absl::StrJoin(m.options, ","), ")"));
    }
    // A bind mount takes MS_RDONLY only on a remount; others take it at once,
    // but overlay needs its upper directory writable until mounted.
    if ((flags & MS_RDONLY) != 0 &&
        ::mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0) {
      return LastErrnoError(absl::StrCat("remount ", target, " read-only"));
    }
  }
  return absl::OkStatus();
}

absl::Status UnmountRootfs(const std::string& target) {
  for (;;) {
    if (::umount2(target.c_str(), UMOUNT_NOFOLLOW) == 0) continue;  // stacked mounts
    if (errno == EINVAL || errno == ENOENT) return absl::OkStatus();
    if (errno == EBUSY && ::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) continue;
    return LastErrnoError(absl::StrCat("unmount ", target));
  }
}

}  // namespace berth::shim
