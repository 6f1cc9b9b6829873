#include "common/fd_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace berth {

absl::StatusOr<UniqueFd> OpenFile(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return LastErrnoError(absl::StrCat("open ", path));
  return UniqueFd(fd);
}

absl::StatusOr<UniqueFd> OpenAt(int dirfd, const std::string& path, int flags, mode_t mode) {
  int fd = ::openat(dirfd, path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return LastErrnoError(absl::StrCat("open ", path));
  return UniqueFd(fd);
}

absl::StatusOr<std::pair<UniqueFd, UniqueFd>> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return LastErrnoError("pipe2");
  return std::make_pair(UniqueFd(fds[0]), UniqueFd(fds[1]));
}

absl::Status WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return LastErrnoError("write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadAll(int fd) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return LastErrnoError("read");
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDONLY));
  auto data = ReadAll(fd.Get());
  if (!data.ok()) return Annotate(data.status(), path);
  return data;
}

absl::Status WriteStringToFile(const std::string& path, absl::string_view data, mode_t mode) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_WRONLY | O_CREAT | O_TRUNC, mode));
  return Annotate(WriteAll(fd.Get(), data), path);
}

absl::Status WriteFileAtomic(const std::string& path, absl::string_view data, mode_t mode,
                             Durability durability) {
  std::string tmp = absl::StrCat(path, ".tmp-XXXXXX");
  int raw = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (raw < 0) return LastErrnoError(absl::StrCat("create temporary file for ", path));
  UniqueFd fd(raw);
  auto fail = [&](absl::Status st) {
    ::unlink(tmp.c_str());
    return st;
  };
  if (::fchmod(fd.Get(), mode) != 0) return fail(LastErrnoError(absl::StrCat("chmod ", tmp)));
  if (auto st = WriteAll(fd.Get(), data); !st.ok()) return fail(Annotate(st, tmp));
  if (durability == Durability::kFsync && ::fsync(fd.Get()) != 0) {
    return fail(LastErrnoError(absl::StrCat("fsync ", tmp)));
  }
  fd.Reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail(LastErrnoError(absl::StrCat("rename ", tmp, " to ", path)));
  }
  return absl::OkStatus();
}

}  // namespace berth
