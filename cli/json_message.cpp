#include "cli/json_message.h"

#include <ctime>

#include "absl/strings/ascii.h"
#include "cli/format/units.h"
#include "fmt/format.h"

namespace berth::cli {

using Json = nlohmann::ordered_json;

namespace {

int64_t IntField(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return 0;
  return it->get<int64_t>();
}

std::string StrField(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

// Go's time.Duration.String() for whole seconds: "1m30s", "45s", "2h0m0s".
std::string DurationString(int64_t seconds) {
  if (seconds <= 0) return "0s";
  int64_t h = seconds / 3600, m = (seconds % 3600) / 60, s = seconds % 60;
  if (h > 0) return fmt::format("{}h{}m{}s", h, m, s);
  if (m > 0) return fmt::format("{}m{}s", m, s);
  return fmt::format("{}s", s);
}

}  // namespace

std::string JsonMessageRenderer::ProgressString(const Json& p) const {
  int64_t current = IntField(p, "current");
  int64_t total = IntField(p, "total");
  std::string units = StrField(p, "units");
  if (current <= 0 && total <= 0) return "";
  if (total <= 0) {
    if (units.empty()) return fmt::format("{:>8}", HumanSize(static_cast<double>(current)));
    return fmt::format("{} {}", current, units);
  }
  int percentage =
      static_cast<int>(static_cast<double>(current) / static_cast<double>(total) * 100) / 2;
  if (percentage > 50) percentage = 50;
  std::string pb, numbers, left;
  if (width_ > 110) {
    int spaces = 50 - percentage > 0 ? 50 - percentage : 0;
    pb = "[" + std::string(static_cast<size_t>(percentage), '=') + ">" +
         std::string(static_cast<size_t>(spaces), ' ') + "] ";
  }
  if (!(p.contains("hidecounts") && p["hidecounts"].is_boolean() && p["hidecounts"].get<bool>())) {
    if (units.empty()) {
      std::string cur = HumanSize(static_cast<double>(current));
      numbers = fmt::format("{:>8}/{}", cur, HumanSize(static_cast<double>(total)));
      if (current > total) numbers = fmt::format("{:>8}", cur);
    } else {
      numbers = fmt::format("{}/{} {}", current, total, units);
      if (current > total) numbers = fmt::format("{} {}", current, units);
    }
  }
  int64_t start = IntField(p, "start");
  if (current > 0 && start > 0 && percentage < 50) {
    double from_start = static_cast<double>(std::time(nullptr) - start);
    double per = from_start / static_cast<double>(current);
    auto secs = static_cast<int64_t>(static_cast<double>(total - current) * per);
    if (width_ > 50) left = " " + DurationString(secs);
  }
  return pb + numbers + left;
}

absl::Status JsonMessageRenderer::Message(const Json& jm) {
  if (jm.contains("aux") && !jm["aux"].is_null()) {
    if (on_aux) on_aux(jm["aux"]);
    return absl::OkStatus();
  }
  std::string id = StrField(jm, "id");
  bool has_progress = jm.contains("progressDetail") && jm["progressDetail"].is_object();
  std::string progress_message = StrField(jm, "progress");
  unsigned diff = 0;
  if (!id.empty() && (has_progress || !progress_message.empty())) {
    auto it = ids_.find(id);
    unsigned line = 0;
    if (it == ids_.end()) {
      line = static_cast<unsigned>(ids_.size());
      ids_[id] = line;
      if (terminal_) sink_("\n");
    } else {
      line = it->second;
    }
    diff = static_cast<unsigned>(ids_.size()) - line;
    if (terminal_ && diff > 0) sink_(fmt::format("\x1b[{}A", diff));
  } else {
    ids_.clear();
  }
  // Display.
  absl::Status result = absl::OkStatus();
  if (jm.contains("errorDetail") && jm["errorDetail"].is_object() &&
      jm["errorDetail"].contains("message")) {
    if (IntField(jm["errorDetail"], "code") == 401) {
      result = absl::UnauthenticatedError("authentication is required");
    } else {
      result = absl::UnknownError(StrField(jm["errorDetail"], "message"));
    }
  } else if (jm.contains("error") && jm["error"].is_string() &&
             !jm["error"].get<std::string>().empty()) {
    result = absl::UnknownError(jm["error"].get<std::string>());
  } else {
    std::string stream = StrField(jm, "stream");
    std::string progress = has_progress ? ProgressString(jm["progressDetail"]) : "";
    std::string endl;
    std::string out;
    bool skip = false;
    if (terminal_ && stream.empty() && has_progress) {
      out += "\r\x1b[2K\r";
      endl = "\r";
    } else if (has_progress && !progress.empty()) {
      skip = true;  // no progress bars without a terminal
    }
    if (!skip) {
      if (!id.empty()) out += id + ": ";
      std::string from = StrField(jm, "from");
      if (!from.empty()) out += "(from " + from + ") ";
      std::string status = StrField(jm, "status");
      if (has_progress && terminal_) {
        out += status + " " + progress + endl;
      } else if (!progress_message.empty()) {
        out += status + " " + progress_message + endl;
      } else if (!stream.empty()) {
        out += stream + endl;
      } else {
        out += status + endl + "\n";
      }
      sink_(out);
    }
  }
  if (!id.empty() && terminal_ && diff > 0) sink_(fmt::format("\x1b[{}B", diff));
  return result;
}

absl::Status JsonMessageRenderer::Feed(std::string_view data) {
  buf_.append(data);
  size_t start = 0;
  while (true) {
    size_t nl = buf_.find('\n', start);
    if (nl == std::string::npos) break;
    std::string line = buf_.substr(start, nl - start);
    start = nl + 1;
    std::string trimmed(absl::StripAsciiWhitespace(line));
    if (trimmed.empty()) continue;
    Json jm = Json::parse(trimmed, nullptr, false);
    if (jm.is_discarded() || !jm.is_object()) {
      buf_.erase(0, start);
      return absl::InternalError("invalid JSON message from the daemon: " + trimmed);
    }
    absl::Status st = Message(jm);
    if (!st.ok()) {
      buf_.clear();
      return st;
    }
  }
  buf_.erase(0, start);
  return absl::OkStatus();
}

absl::Status JsonMessageRenderer::Finish() {
  if (absl::StripAsciiWhitespace(buf_).empty()) return absl::OkStatus();
  buf_ += "\n";
  return Feed("");
}

}  // namespace berth::cli
