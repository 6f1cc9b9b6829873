// Paths inside the container's rootfs, resolved as the container would see them:
// every symlink and ".." stays inside the rootfs (openat2 RESOLVE_IN_ROOT), so a
// malicious image cannot point a mount destination at the host.
#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace berth::oci {

// Opens `path` ("/dev/pts") under the root directory rootfs_fd.
absl::StatusOr<UniqueFd> OpenInRoot(int rootfs_fd, const std::string& path, int flags);

// mkdir -p inside the root; returns an O_PATH descriptor of the directory.
absl::StatusOr<UniqueFd> MkdirAllInRoot(int rootfs_fd, const std::string& path, mode_t mode);

// Makes sure `path` exists inside the root as an empty regular file (a bind-mount
// target for a file), creating parent directories; returns an O_PATH descriptor.
absl::StatusOr<UniqueFd> CreateFileInRoot(int rootfs_fd, const std::string& path);

// "/proc/self/fd/<fd>": mount(2) and friends act on what the descriptor refers to.
std::string ProcFdPath(int fd);

}  // namespace berth::oci
