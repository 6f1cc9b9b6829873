#include "engine/daemon/json_file_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status.h"
#include "engine/daemon/container.h"

namespace berth::engine {
namespace {

constexpr size_t kMaxPartial = 16 << 10;

absl::StatusOr<UniqueFd> OpenLogFile(const std::string& path, int extra_flags) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | extra_flags, 0640);
  if (fd < 0) return LastErrnoError(absl::StrCat("open log ", path));
  return UniqueFd(fd);
}

}  // namespace

absl::StatusOr<std::unique_ptr<JsonFileLog>> JsonFileLog::Open(const std::string& path,
                                                               JsonFileOptions options) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenLogFile(path, 0));
  struct stat st {};
  if (::fstat(fd.Get(), &st) != 0) return LastErrnoError(absl::StrCat("stat log ", path));
  return std::unique_ptr<JsonFileLog>(
      new JsonFileLog(path, std::move(options), std::move(fd), st.st_size));
}

JsonFileLog::JsonFileLog(std::string path, JsonFileOptions options, UniqueFd fd, int64_t size)
    : path_(std::move(path)), options_(std::move(options)), fd_(std::move(fd)), size_(size) {
  if (!options_.attrs.empty()) {
    nlohmann::ordered_json attrs = nlohmann::ordered_json::object();
    for (const auto& [k, v] : options_.attrs) attrs[k] = v;
    attrs_json_ = absl::StrCat(",\"attrs\":", attrs.dump());
  }
}

std::shared_mutex& LogRotationLock() {
  static std::shared_mutex lock;
  return lock;
}

void JsonFileLog::Rotate() {
  // Whatever happens, the size starts over: a failed rotation is not tried
  // again at every line.
  size_ = 0;
  std::unique_lock lock(LogRotationLock());
  if (options_.max_files < 2) {
    if (::ftruncate(fd_.Get(), 0) != 0) LogWarn("truncate {}: {}", path_, strerror(errno));
    return;
  }
  for (int i = options_.max_files - 1; i > 1; --i) {
    const std::string from = absl::StrCat(path_, ".", i - 1);
    const std::string to = absl::StrCat(path_, ".", i);
    if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
      LogWarn("rotate {}: {}", from, strerror(errno));
    }
  }
  const std::string first = absl::StrCat(path_, ".1");
  if (::rename(path_.c_str(), first.c_str()) != 0) {
    LogWarn("rotate {}: {}; log data may have been lost", path_, strerror(errno));
  }
  // As moby's LogFile: a new file at the path even when a rename failed (the
  // live file was removed, say), so that `logs` reads what comes next.
  auto fd = OpenLogFile(path_, O_TRUNC);
  if (!fd.ok()) {
    LogWarn("{}", fd.status().message());
    return;
  }
  fd_ = std::move(*fd);
}

void JsonFileLog::WriteMessage(StreamKind stream, const std::string& message) {
  // {"log":…,"stream":…,"attrs":{…},"time":…}: Docker's field order.
  std::string text = absl::StrCat(
      "{\"log\":",
      nlohmann::json(message).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
      ",\"stream\":\"", stream == StreamKind::kStdout ? "stdout" : "stderr", "\"", attrs_json_,
      ",\"time\":\"", FormatDockerTime(absl::Now()), "\"}\n");
  if (options_.max_size > 0 && size_ >= options_.max_size) Rotate();
  ssize_t n = ::write(fd_.Get(), text.data(), text.size());
  if (n < 0) {
    LogWarn("write container log: {}", strerror(errno));
    return;
  }
  size_ += n;
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
