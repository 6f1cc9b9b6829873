#include "lowlevel-runtime/rootfs_path.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status.h"

namespace berth::oci {
namespace {

int RawOpenInRoot(int rootfs_fd, const std::string& path, int flags) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string relative = path;
  while (!relative.empty() && relative[0] == '/') relative.erase(0, 1);
  if (relative.empty()) relative = ".";
  long fd;
  do {
    fd = ::syscall(SYS_openat2, rootfs_fd, relative.c_str(), &how, sizeof how);
  } while (fd < 0 && errno == EAGAIN);
  return static_cast<int>(fd);
}

std::vector<std::string> Components(const std::string& path) {
  return absl::StrSplit(path, '/', absl::SkipEmpty());
}

}  // namespace

absl::StatusOr<UniqueFd> OpenInRoot(int rootfs_fd, const std::string& path, int flags) {
  int fd = RawOpenInRoot(rootfs_fd, path, flags);
  if (fd < 0) return LastErrnoError(absl::StrCat("open ", path, " in the container rootfs"));
  return UniqueFd(fd);
}

namespace {

absl::StatusOr<UniqueFd> MkdirAllInRootDepth(int rootfs_fd, const std::string& path, mode_t mode,
                                             int depth);

// A component that is a dangling symlink: create its target, inside the root.
absl::Status CreateSymlinkTarget(int rootfs_fd, int dir_fd, const std::string& parent,
                                 const std::string& name, mode_t mode, int depth) {
  char target[4096];
  ssize_t n = ::readlinkat(dir_fd, name.c_str(), target, sizeof target - 1);
  if (n < 0) return LastErrnoError(absl::StrCat("readlink ", parent, "/", name));
  target[n] = '\0';
  std::string in_root = target[0] == '/' ? std::string(target)
                                         : absl::StrCat(parent == "/" ? "" : parent, "/", target);
  return MkdirAllInRootDepth(rootfs_fd, in_root, mode, depth + 1).status();
}

absl::StatusOr<UniqueFd> MkdirAllInRootDepth(int rootfs_fd, const std::string& path, mode_t mode,
                                             int depth) {
  if (depth > 40)
    return ErrnoError(ELOOP, absl::StrCat("mkdir ", path, " in the container rootfs"));
  std::vector<std::string> parts = Components(path);
  UniqueFd dir(RawOpenInRoot(rootfs_fd, "/", O_PATH | O_DIRECTORY));
  if (!dir) return LastErrnoError("open the container rootfs");
  std::string done = "/";
  for (const std::string& part : parts) {
    std::string next = absl::StrCat(done == "/" ? "" : done, "/", part);
    int fd = RawOpenInRoot(rootfs_fd, next, O_PATH | O_DIRECTORY);
    if (fd < 0 && errno == ENOENT) {
      if (::mkdirat(dir.Get(), part.c_str(), mode) != 0) {
        if (errno != EEXIST) {
          return LastErrnoError(absl::StrCat("mkdir ", next, " in the container rootfs"));
        }
        // Exists but does not resolve: a dangling symlink. Create what it points
        // to (inside the root, as the container would see it), as runc does.
        BERTH_RETURN_IF_ERROR(CreateSymlinkTarget(rootfs_fd, dir.Get(), done, part, mode, depth));
      }
      fd = RawOpenInRoot(rootfs_fd, next, O_PATH | O_DIRECTORY);
    }
    if (fd < 0) return LastErrnoError(absl::StrCat("open ", next, " in the container rootfs"));
    dir.Reset(fd);
    done = next;
  }
  return dir;
}

}  // namespace

absl::StatusOr<UniqueFd> MkdirAllInRoot(int rootfs_fd, const std::string& path, mode_t mode) {
  return MkdirAllInRootDepth(rootfs_fd, path, mode, 0);
}

absl::StatusOr<UniqueFd> CreateFileInRoot(int rootfs_fd, const std::string& path) {
  int fd = RawOpenInRoot(rootfs_fd, path, O_PATH);
  if (fd >= 0) return UniqueFd(fd);
  if (errno != ENOENT)
    return LastErrnoError(absl::StrCat("open ", path, " in the container rootfs"));
  std::vector<std::string> parts = Components(path);
  if (parts.empty()) return absl::InvalidArgumentError("cannot create \"/\" as a file");
  std::string name = parts.back();
  parts.pop_back();
  BERTH_ASSIGN_OR_RETURN(UniqueFd parent,
                         MkdirAllInRoot(rootfs_fd, "/" + absl::StrJoin(parts, "/"), 0755));
  int created = ::openat(parent.Get(), name.c_str(),
                         O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (created < 0 && errno != EEXIST) {
    return LastErrnoError(absl::StrCat("create ", path, " in the container rootfs"));
  }
  if (created >= 0) ::close(created);
  return OpenInRoot(rootfs_fd, path, O_PATH);
}

std::string ProcFdPath(int fd) { return absl::StrCat("/proc/self/fd/", fd); }

}  // namespace berth::oci
