// Process-wide logging: levels, to stderr or a file, text (logrus-style, as runc
// writes) or JSON lines (runc's --log-format json).
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

// Lets absl::string_view (a distinct type in Debian's C++14-built Abseil) be formatted.
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<fmt::string_view> {
  auto format(absl::string_view s, fmt::format_context& ctx) const {
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(s.data(), s.size()), ctx);
  }
};

namespace berth {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kText, kJson };

struct LogConfig {
  LogLevel level = LogLevel::kWarn;
  LogFormat format = LogFormat::kText;
  std::string path;  // empty: stderr
};

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name);
absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name);
absl::string_view LogLevelName(LogLevel level);

// Opens the log destination (appending) and makes it current for Log().
absl::Status ConfigureLogging(const LogConfig& config);
const LogConfig& CurrentLogConfig();
// The descriptor log lines go to (stderr or the opened file).
int LogFd();

// Key/value pairs a line carries after its message (logrus' fields), in order.
using LogFields = std::vector<std::pair<std::string, std::string>>;

// One line, newline-terminated, in the given format. Fields follow msg as
// key=value (the value quoted as logrus quotes it) or as JSON members.
std::string FormatLogLine(LogLevel level, LogFormat format, absl::string_view message,
                          absl::Time when, const LogFields& fields = {});

bool LogEnabled(LogLevel level);
void Log(LogLevel level, absl::string_view message, const LogFields& fields = {});

template <typename... Args>
void LogDebug(fmt::format_string<Args...> f, Args&&... args) {
  if (LogEnabled(LogLevel::kDebug))
    Log(LogLevel::kDebug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void LogInfo(fmt::format_string<Args...> f, Args&&... args) {
  if (LogEnabled(LogLevel::kInfo))
    Log(LogLevel::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void LogWarn(fmt::format_string<Args...> f, Args&&... args) {
  if (LogEnabled(LogLevel::kWarn))
    Log(LogLevel::kWarn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void LogError(fmt::format_string<Args...> f, Args&&... args) {
  if (LogEnabled(LogLevel::kError))
    Log(LogLevel::kError, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace berth
