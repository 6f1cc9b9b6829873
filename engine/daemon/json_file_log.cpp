#include "engine/daemon/json_file_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status.h"
#include "engine/daemon/container.h"

namespace berth::engine {
namespace {
constexpr size_t kMaxPartial = 16 << 10;
}

absl::StatusOr<std::unique_ptr<JsonFileLog>> JsonFileLog::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return LastErrnoError(absl::StrCat("open log ", path));
  return std::unique_ptr<JsonFileLog>(new JsonFileLog(UniqueFd(fd)));
}

void JsonFileLog::WriteMessage(StreamKind stream, const std::string& message) {
  nlohmann::json line = {{"log", message},
                         {"stream", stream == StreamKind::kStdout ? "stdout" : "stderr"},
                         {"time", FormatDockerTime(absl::Now())}};
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text += '\n';
  if (::write(fd_.Get(), text.data(), text.size()) < 0) {
    LogWarn("write container log: {}", strerror(errno));
  }
}

void JsonFileLog::Write(StreamKind stream, const std::string& data) {
  std::string& partial = partial_[static_cast<int>(stream)];
  size_t start = 0;
  for (size_t nl = data.find('\n'); nl != std::string::npos; nl = data.find('\n', start)) {
    partial.append(data, start, nl + 1 - start);
    WriteMessage(stream, partial);
    partial.clear();
    start = nl + 1;
  }
  partial.append(data, start);
  if (partial.size() >= kMaxPartial) Flush(stream);
}

void JsonFileLog::Flush(StreamKind stream) {
  std::string& partial = partial_[static_cast<int>(stream)];
  if (partial.empty()) return;
  WriteMessage(stream, partial);
  partial.clear();
}

}  // namespace berth::engine
