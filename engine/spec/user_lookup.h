// Docker's User string ("", "name", "uid", "name:group", "uid:gid", ...) to
// ids, against the container's own /etc/passwd and /etc/group, the way
// github.com/moby/sys/user GetExecUser resolves it for dockerd.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth::engine::spec {

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  // Supplementary groups: the /etc/group entries listing the user's name (only
  // when no group was given explicitly), then HostConfig.GroupAdd. The primary
  // gid is not repeated here; BuildContainerSpec puts it first in
  // process.user.additionalGids, as dockerd does.
  std::vector<uint32_t> additional_gids;
};

// Reads rootfs/etc/passwd and rootfs/etc/group without leaving rootfs (openat2
// RESOLVE_IN_ROOT: an absolute symlink in the image resolves inside it) and
// resolves `user`. Missing files are fine for numeric ids and for "" (root);
// an unknown name fails as dockerd does, e.g.
// "unable to find user xyz: no matching entries in passwd file".
// `group_add` is HostConfig.GroupAdd (names or gids).
absl::StatusOr<User> LookupUser(const std::string& rootfs, const std::string& user,
                                const std::vector<std::string>& group_add = {});

// The resolution itself, on file contents (nullopt: the file does not exist).
absl::StatusOr<User> ResolveUser(absl::string_view user, const std::optional<std::string>& passwd,
                                 const std::optional<std::string>& group,
                                 const std::vector<std::string>& group_add = {});

// The content of `path` inside `rootfs`, every symlink resolved as if rootfs
// were "/"; nullopt when it does not exist. Only regular files are read.
absl::StatusOr<std::optional<std::string>> ReadFileInRoot(const std::string& rootfs,
                                                          const std::string& path);

}  // namespace berth::engine::spec
