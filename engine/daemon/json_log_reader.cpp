#include "engine/daemon/json_log_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "engine/daemon/container.h"

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

}  // namespace

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

absl::Status JsonLogReader::OpenLive() {
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return LastErrnoError(absl::StrCat("open ", path_));
  }
  fd_ = UniqueFd(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return LastErrnoError(absl::StrCat("stat ", path_));
  ino_ = st.st_ino;
  offset_ = 0;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<LogMessage>> JsonLogReader::Next() {
  std::vector<LogMessage> out;
  if (!started_) {
    started_ = true;
    int rotated = 0;
    while (::access(absl::StrCat(path_, ".", rotated + 1).c_str(), F_OK) == 0) ++rotated;
    for (int i = rotated; i >= 1; --i) {
      const std::string path = absl::StrCat(path_, ".", i);
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;  // rotated away meanwhile
      UniqueFd file(fd);
      int64_t offset = 0;
      BERTH_RETURN_IF_ERROR(ReadFrom(file.Get(), &offset, &out));
    }
    BERTH_RETURN_IF_ERROR(OpenLive());
  }
  if (!fd_) {
    BERTH_RETURN_IF_ERROR(OpenLive());
    if (!fd_) return out;
  }
  struct stat st {};
  if (::fstat(fd_.Get(), &st) == 0 && st.st_size < offset_) offset_ = 0;  // emptied (max-file 1)
  BERTH_RETURN_IF_ERROR(ReadFrom(fd_.Get(), &offset_, &out));
  // Rotated since it was opened: what the old file got last is read above;
  // the new live file from its start.
  struct stat now {};
  if (::stat(path_.c_str(), &now) == 0 && now.st_ino != ino_) {
    BERTH_RETURN_IF_ERROR(OpenLive());
    BERTH_RETURN_IF_ERROR(ReadFrom(fd_.Get(), &offset_, &out));
  }
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
