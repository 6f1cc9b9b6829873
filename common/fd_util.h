// Small, checked wrappers around fd syscalls that return UniqueFd / Status.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"

namespace berth {

// open(2) with O_CLOEXEC always added; the error names the path.
absl::StatusOr<UniqueFd> OpenFile(const std::string& path, int flags, mode_t mode = 0);
// openat(2) relative to dirfd, O_CLOEXEC always added.
absl::StatusOr<UniqueFd> OpenAt(int dirfd, const std::string& path, int flags, mode_t mode = 0);

// pipe2(O_CLOEXEC): {read end, write end}.
absl::StatusOr<std::pair<UniqueFd, UniqueFd>> MakePipe();

// Writes all of data, retrying on EINTR and short writes.
absl::Status WriteAll(int fd, absl::string_view data);
// Reads until EOF.
absl::StatusOr<std::string> ReadAll(int fd);

// Whole-file helpers.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);
absl::Status WriteStringToFile(const std::string& path, absl::string_view data, mode_t mode = 0644);
enum class Durability {
  kFsync,    // fsync before the rename: survives a power loss (stores on disk)
  kNoFsync,  // rename only: survives a killed process (state on tmpfs, e.g. /run)
};

// Writes to path.tmp-XXXX, then renames over path: readers see old or new, never half.
absl::Status WriteFileAtomic(const std::string& path, absl::string_view data, mode_t mode = 0644,
                             Durability durability = Durability::kFsync);

}  // namespace berth
