#include "engine/daemon/json_log_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "engine/daemon/container.h"

namespace berth::engine {

absl::StatusOr<std::vector<LogMessage>> ReadLogMessages(const std::string& path, int64_t* offset) {
  std::vector<LogMessage> out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return out;
    return LastErrnoError(absl::StrCat("open ", path));
  }
  std::string data;
  char buffer[64 << 10];
  for (;;) {
    ssize_t n = ::pread(fd, buffer, sizeof buffer, *offset + static_cast<int64_t>(data.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  size_t start = 0;
  for (size_t nl = data.find('\n'); nl != std::string::npos; nl = data.find('\n', start)) {
    nlohmann::json line =
        nlohmann::json::parse(data.begin() + static_cast<std::ptrdiff_t>(start),
                              data.begin() + static_cast<std::ptrdiff_t>(nl), nullptr, false);
    start = nl + 1;
    if (!line.is_object() || !line.contains("log") || !line["log"].is_string()) continue;
    LogMessage m;
    m.text = line["log"].get<std::string>();
    m.stream = line.value("stream", "") == "stderr" ? StreamKind::kStderr : StreamKind::kStdout;
    m.time = ParseDockerTime(line.value("time", ""));
    out.push_back(std::move(m));
  }
  *offset += static_cast<int64_t>(start);
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
