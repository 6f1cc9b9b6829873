#include "lowlevel-runtime/cgroups/cgroup_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/log.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace berth::oci {
namespace {

// Reads errno before the message is built (allocating may clobber it).
template <typename... Parts>
absl::Status SysError(const Parts&... parts) {
  int err = errno;
  return ErrnoError(err, absl::StrCat(parts...));
}

// The child cgroups (subdirectories) of dir.
absl::StatusOr<std::vector<std::string>> ChildCgroups(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return SysError("open cgroup directory ", dir);
  std::vector<std::string> children;
  while (dirent* e = ::readdir(d)) {
    absl::string_view name = e->d_name;
    if (e->d_type != DT_DIR || name == "." || name == "..") continue;
    children.push_back(absl::StrCat(dir, "/", name));
  }
  ::closedir(d);
  return children;
}

absl::Status CollectPids(const std::string& dir, std::vector<pid_t>* pids, bool top) {
  absl::StatusOr<std::string> procs = ReadCgroupFile(dir, "cgroup.procs");
  absl::StatusOr<std::vector<std::string>> children =
      procs.ok() ? ChildCgroups(dir) : procs.status();
  if (!children.ok()) {
    // A child cgroup can vanish while we walk.
    if (!top && ErrnoOf(children.status()) == ENOENT) return absl::OkStatus();
    return children.status();
  }
  for (absl::string_view line : absl::StrSplit(*procs, '\n', absl::SkipEmpty())) {
    pid_t pid = 0;
    if (absl::SimpleAtoi(line, &pid)) pids->push_back(pid);
  }
  for (const std::string& child : *children) {
    BERTH_RETURN_IF_ERROR(CollectPids(child, pids, false));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteCgroupFile(const std::string& dir, absl::string_view file,
                             absl::string_view value) {
  std::string path = absl::StrCat(dir, "/", file);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return SysError("write ", value, " to ", path);
  // cgroupfs parses each write(2) on its own: the value must go in one call.
  ssize_t n;
  do {
    n = ::write(fd.Get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return SysError("write ", value, " to ", path);
  if (static_cast<size_t>(n) != value.size()) {
    return ErrnoError(EIO, absl::StrCat("write ", value, " to ", path, ": short write"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadCgroupFile(const std::string& dir, absl::string_view file) {
  std::string path = absl::StrCat(dir, "/", file);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return SysError("read ", path);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.Get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return SysError("read ", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

absl::Status ApplyCgroupWrite(const std::string& dir, const CgroupWrite& write) {
  absl::Status status = WriteCgroupFile(dir, write.file, write.value);
  if (status.ok() || ErrnoOf(status) != ENOENT) return status;
  if (!write.fallback_file.empty()) {
    absl::Status fallback =
        WriteCgroupFile(dir, write.fallback_file,
                        write.fallback_value.empty() ? write.value : write.fallback_value);
    if (fallback.ok() || ErrnoOf(fallback) != ENOENT) return fallback;
  }
  switch (write.if_missing) {
    case CgroupWrite::IfMissing::kFail:
      return status;
    case CgroupWrite::IfMissing::kWarn:
      LogWarn("{}/{} does not exist: {} not set to {}", dir, write.file, write.file, write.value);
      return absl::OkStatus();
    case CgroupWrite::IfMissing::kSkip:
      return absl::OkStatus();
  }
  return status;
}

absl::Status MakeCgroupDir(const std::string& dir, std::vector<std::string>* created) {
  if (::mkdir(dir.c_str(), 0755) == 0) {
    created->push_back(dir);
    return absl::OkStatus();
  }
  if (errno == EEXIST) return absl::OkStatus();
  if (errno != ENOENT) return SysError("mkdir ", dir);
  size_t slash = dir.rfind('/');
  if (slash == 0 || slash == std::string::npos)
    return ErrnoError(ENOENT, absl::StrCat("mkdir ", dir));
  BERTH_RETURN_IF_ERROR(MakeCgroupDir(dir.substr(0, slash), created));
  if (::mkdir(dir.c_str(), 0755) == 0) {
    created->push_back(dir);
    return absl::OkStatus();
  }
  if (errno == EEXIST) return absl::OkStatus();
  return SysError("mkdir ", dir);
}

void RemoveCreatedDirs(const std::vector<std::string>& created) {
  for (auto it = created.rbegin(); it != created.rend(); ++it) ::rmdir(it->c_str());
}

absl::Status CollectCgroupPids(const std::string& dir, std::vector<pid_t>* pids) {
  return CollectPids(dir, pids, true);
}

absl::Status RemoveCgroupDir(const std::string& dir) {
  // EBUSY without processes: tasks that exited are unlinked from their cgroup
  // a little after they are reaped. Waits 1+2+...+128 ms at most.
  constexpr int kRetries = 8;
  for (int attempt = 0;; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return absl::OkStatus();
    int err = errno;
    if (err != EBUSY && err != ENOTEMPTY) return ErrnoError(err, absl::StrCat("rmdir ", dir));
    if (attempt == 0) {  // children first
      absl::StatusOr<std::vector<std::string>> children = ChildCgroups(dir);
      if (!children.ok() && ErrnoOf(children.status()) != ENOENT) return children.status();
      for (const std::string& child : children.value_or(std::vector<std::string>())) {
        BERTH_RETURN_IF_ERROR(RemoveCgroupDir(child));
      }
    }
    absl::StatusOr<std::string> procs = ReadCgroupFile(dir, "cgroup.procs");
    if (procs.ok() && !procs->empty()) {
      std::vector<absl::string_view> pids = absl::StrSplit(*procs, '\n', absl::SkipEmpty());
      return absl::FailedPreconditionError(absl::StrCat("cannot remove cgroup ", dir,
                                                        ": it still has processes (pid ",
                                                        absl::StrJoin(pids, ", "), ")"));
    }
    if (attempt == kRetries) return ErrnoError(err, absl::StrCat("rmdir ", dir));
    if (attempt > 0) ::usleep(1000u << (attempt - 1));
  }
}

absl::Status CheckCgroupFileName(absl::string_view what, absl::string_view name) {
  if (name.empty() || name == "." || name == ".." || absl::StrContains(name, '/')) {
    return absl::InvalidArgumentError(absl::StrCat(what, " \"", name, "\" is not a valid name"));
  }
  return absl::OkStatus();
}

absl::Status AppendToStatus(const absl::Status& status, absl::string_view suffix) {
  if (status.ok()) return status;
  absl::Status out(status.code(), absl::StrCat(status.message(), suffix));
  status.ForEachPayload(
      [&](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

std::optional<std::string> FindKeyedValue(absl::string_view text, absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::ConsumePrefix(&line, key) && absl::ConsumePrefix(&line, " ")) {
      return std::string(line);
    }
  }
  return std::nullopt;
}

}  // namespace berth::oci
