#include "engine/daemon/json_log_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>
#include <shared_mutex>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "engine/daemon/container.h"
#include "engine/daemon/json_file_log.h"

namespace berth::engine {
namespace {

std::optional<LogMessage> ParseLine(const char* begin, const char* end) {
  nlohmann::json line = nlohmann::json::parse(begin, end, nullptr, false);
  if (!line.is_object() || !line.contains("log") || !line["log"].is_string()) return std::nullopt;
  LogMessage m;
  m.text = line["log"].get<std::string>();
  m.stream = line.value("stream", "") == "stderr" ? StreamKind::kStderr : StreamKind::kStdout;
  m.time = ParseDockerTime(line.value("time", ""));
  if (line.contains("attrs") && line["attrs"].is_object()) {
    for (const auto& [k, v] : line["attrs"].items()) {
      if (v.is_string()) m.attrs.emplace_back(k, v.get<std::string>());
    }
  }
  return m;
}

// Where the last n complete lines of fd's first `size` bytes begin: just
// after the (n+1)-th newline from the end, or 0 with *found the number of
// complete lines when there are not that many.
absl::StatusOr<int64_t> StartOfLastLines(int fd, int64_t size, size_t n, size_t* found) {
  size_t newlines = 0;
  char buffer[64 << 10];
  for (int64_t end = size; end > 0;) {
    const int64_t start = std::max<int64_t>(0, end - static_cast<int64_t>(sizeof buffer));
    const size_t want = static_cast<size_t>(end - start);
    ssize_t got = ::pread(fd, buffer, want, start);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return LastErrnoError("read log");
    if (static_cast<size_t>(got) != want) return absl::DataLossError("log file shrank while read");
    for (size_t i = want; i-- > 0;) {
      if (buffer[i] != '\n') continue;
      if (++newlines == n + 1) {
        *found = n;
        return start + static_cast<int64_t>(i) + 1;
      }
    }
    end = start;
  }
  *found = newlines;
  return 0;
}

}  // namespace

absl::StatusOr<std::vector<UniqueFd>> JsonLogReader::Begin() {
  started_ = true;
  // The rotated files and the live one as one set: no rotation between.
  std::shared_lock lock(LogRotationLock());
  std::vector<UniqueFd> rotated = OpenRotated(0);
  BERTH_ASSIGN_OR_RETURN(auto live, OpenLive());
  std::tie(fd_, ino_) = std::move(live);
  return rotated;
}

absl::StatusOr<std::vector<LogMessage>> JsonLogReader::Tail(size_t n) {
  BERTH_ASSIGN_OR_RETURN(std::vector<UniqueFd> rotated, Begin());
  // Newest first: where each file's share of the last n lines begins.
  std::vector<int> fds;
  if (fd_) fds.push_back(fd_.Get());
  for (size_t i = rotated.size(); i-- > 0;) fds.push_back(rotated[i].Get());
  std::vector<int64_t> starts(fds.size());
  size_t need = n;
  for (size_t i = 0; i < fds.size(); ++i) {
    struct stat st {};
    if (::fstat(fds[i], &st) != 0) return LastErrnoError(absl::StrCat("stat ", path_));
    size_t found = 0;
    if (need == 0 && i > 0) {
      starts[i] = st.st_size;  // an older file: none of its lines are wanted
      continue;
    }
    BERTH_ASSIGN_OR_RETURN(starts[i], StartOfLastLines(fds[i], st.st_size, need, &found));
    need -= found;
  }
  // Read oldest first, each from its start; the live file's offset goes on.
  std::vector<LogMessage> out;
  for (size_t i = fds.size(); i-- > 0;) {
    if (fd_ && i == 0) {
      offset_ = starts[i];
      BERTH_RETURN_IF_ERROR(ReadFrom(fd_.Get(), &offset_, &out));
    } else {
      int64_t offset = starts[i];
      BERTH_RETURN_IF_ERROR(ReadFrom(fds[i], &offset, &out));
    }
  }
  return out;
}

absl::Status JsonLogReader::ReadFrom(int fd, int64_t* offset, std::vector<LogMessage>* out) {
  std::string data;
  char buffer[64 << 10];
  for (;;) {
    ssize_t n = ::pread(fd, buffer, sizeof buffer, *offset + static_cast<int64_t>(data.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return LastErrnoError(absl::StrCat("read ", path_));
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
  }
  size_t start = 0;
  for (size_t nl = data.find('\n'); nl != std::string::npos; nl = data.find('\n', start)) {
    if (auto m = ParseLine(data.data() + start, data.data() + nl)) out->push_back(std::move(*m));
    start = nl + 1;
  }
  *offset += static_cast<int64_t>(start);
  return absl::OkStatus();
}

absl::StatusOr<std::pair<UniqueFd, ino_t>> JsonLogReader::OpenLive() const {
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::pair<UniqueFd, ino_t>(UniqueFd(), 0);
    return LastErrnoError(absl::StrCat("open ", path_));
  }
  UniqueFd file(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return LastErrnoError(absl::StrCat("stat ", path_));
  return std::pair<UniqueFd, ino_t>(std::move(file), st.st_ino);
}

std::vector<UniqueFd> JsonLogReader::OpenRotated(ino_t after) const {
  std::vector<std::pair<UniqueFd, ino_t>> files;  // <path>.1, .2, ...: newest first
  for (int k = 1;; ++k) {
    int fd = ::open(absl::StrCat(path_, ".", k).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    struct stat st {};
    ino_t ino = ::fstat(fd, &st) == 0 ? st.st_ino : 0;
    files.emplace_back(UniqueFd(fd), ino);
  }
  size_t newer = files.size();  // how many are newer than `after`: all when it is gone
  for (size_t i = 0; i < files.size(); ++i) {
    if (after != 0 && files[i].second == after) newer = i;
  }
  std::vector<UniqueFd> out;
  for (size_t i = newer; i-- > 0;) out.push_back(std::move(files[i].first));
  return out;
}

absl::StatusOr<std::vector<LogMessage>> JsonLogReader::Next() {
  std::vector<LogMessage> out;
  if (!started_) {
    BERTH_ASSIGN_OR_RETURN(std::vector<UniqueFd> rotated, Begin());
    for (const UniqueFd& file : rotated) {
      int64_t offset = 0;
      BERTH_RETURN_IF_ERROR(ReadFrom(file.Get(), &offset, &out));
    }
    offset_ = 0;
  }
  if (!fd_) {
    std::shared_lock lock(LogRotationLock());
    BERTH_ASSIGN_OR_RETURN(auto live, OpenLive());
    std::tie(fd_, ino_) = std::move(live);
    offset_ = 0;
    if (!fd_) return out;
  }
  struct stat st {};
  if (::fstat(fd_.Get(), &st) == 0 && st.st_size < offset_) offset_ = 0;  // emptied (max-file 1)
  BERTH_RETURN_IF_ERROR(ReadFrom(fd_.Get(), &offset_, &out));
  // Rotated since it was opened: the rest of the old file (a line may have
  // gone in after the read above, before the rotation), the files rotated
  // after it, oldest first, then the new live file.
  std::vector<UniqueFd> newer;
  std::pair<UniqueFd, ino_t> live;
  {
    std::shared_lock lock(LogRotationLock());
    struct stat now {};
    if (::stat(path_.c_str(), &now) != 0 || now.st_ino == ino_) return out;
    newer = OpenRotated(ino_);
    BERTH_ASSIGN_OR_RETURN(live, OpenLive());
  }
  BERTH_RETURN_IF_ERROR(ReadFrom(fd_.Get(), &offset_, &out));
  for (const UniqueFd& file : newer) {
    int64_t offset = 0;
    BERTH_RETURN_IF_ERROR(ReadFrom(file.Get(), &offset, &out));
  }
  std::tie(fd_, ino_) = std::move(live);
  offset_ = 0;
  if (fd_) BERTH_RETURN_IF_ERROR(ReadFrom(fd_.Get(), &offset_, &out));
  return out;
}

absl::StatusOr<absl::Time> ParseUnixTimestamp(const std::string& text) {
  auto bad = absl::InvalidArgumentError(
      absl::StrCat("invalid timestamp \"", text, "\": want seconds[.nanoseconds] since 1970"));
  size_t dot = text.find('.');
  int64_t seconds = 0;
  if (!absl::SimpleAtoi(text.substr(0, dot), &seconds)) return bad;
  absl::Time t = absl::FromUnixSeconds(seconds);
  if (dot != std::string::npos) {
    std::string fraction = text.substr(dot + 1);
    if (fraction.empty() || fraction.size() > 9) return bad;
    fraction.resize(9, '0');
    int64_t nanos = 0;
    if (!absl::SimpleAtoi(fraction, &nanos)) return bad;
    t += absl::Nanoseconds(nanos);
  }
  return t;
}

}  // namespace berth::engine
