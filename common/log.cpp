#include "common/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/fd_util.h"
#include "common/status.h"

namespace berth {
namespace {

struct LoggerState {
  LogConfig config;
  int fd = STDERR_FILENO;
};

LoggerState& State() {
  static LoggerState state;
  return state;
}

// Quotes a value the way logrus' text formatter does when it needs quoting.
std::string QuoteText(absl::string_view value) {
  return nlohmann::json(std::string(value))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// logrus' text formatter quotes a value holding anything but these.
bool NeedsQuoting(absl::string_view value) {
  if (value.empty()) return true;
  for (char c : value) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
          c == '/' || c == '@' || c == '^' || c == '+')) {
      return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name) {
  std::string lower = absl::AsciiStrToLower(name);
  if (lower == "debug" || lower == "trace") return LogLevel::kDebug;
  if (lower == "info") return LogLevel::kInfo;
  if (lower == "warn" || lower == "warning") return LogLevel::kWarn;
  if (lower == "error" || lower == "fatal" || lower == "panic") return LogLevel::kError;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log level \"", name, "\" (want debug, info, warn or error)"));
}

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log format \"", name, "\" (want text or json)"));
}

absl::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

absl::Status ConfigureLogging(const LogConfig& config) {
  LoggerState& state = State();
  int fd = STDERR_FILENO;
  if (!config.path.empty()) {
    BERTH_ASSIGN_OR_RETURN(UniqueFd file,
                           OpenFile(config.path, O_WRONLY | O_APPEND | O_CREAT, 0640));
    fd = file.Release();
  }
  if (state.fd != STDERR_FILENO) ::close(state.fd);
  state.fd = fd;
  state.config = config;
  return absl::OkStatus();
}

const LogConfig& CurrentLogConfig() { return State().config; }
int LogFd() { return State().fd; }

std::string FormatLogLine(LogLevel level, LogFormat format, absl::string_view message,
                          absl::Time when, const LogFields& fields) {
  std::string time = absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", when, absl::UTCTimeZone());
  if (format == LogFormat::kJson) {
    nlohmann::json line = {
        {"level", std::string(LogLevelName(level))}, {"msg", std::string(message)}, {"time", time}};
    // As logrus does, a field named like a standard key does not replace it.
    for (const auto& [key, value] : fields) {
      line[line.contains(key) ? "fields." + key : key] = value;
    }
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  std::string out =
      absl::StrCat("time=\"", time, "\" level=", LogLevelName(level), " msg=", QuoteText(message));
  for (const auto& [key, value] : fields) {
    absl::StrAppend(&out, " ", key, "=", NeedsQuoting(value) ? QuoteText(value) : value);
  }
  out += "\n";
  return out;
}

bool LogEnabled(LogLevel level) { return level >= State().config.level; }

void Log(LogLevel level, absl::string_view message, const LogFields& fields) {
  const LoggerState& state = State();
  if (level < state.config.level) return;
  // One write per line keeps lines whole when several processes share the file.
  (void)WriteAll(state.fd, FormatLogLine(level, state.config.format, message, absl::Now(), fields));
}

}  // namespace berth
