#include "cli/time_opts.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"

namespace berth::cli {

namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

size_t Count(std::string_view s, char c) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), c));
}

}  // namespace

absl::StatusOr<std::pair<int64_t, int64_t>> ParseUnixTimestamp(std::string_view value) {
  std::string_view sec = value;
  std::string_view frac;
  if (auto dot = value.find('.'); dot != std::string_view::npos) {
    sec = value.substr(0, dot);
    frac = value.substr(dot + 1);
    if (!AllDigits(frac)) return absl::InvalidArgumentError("invalid timestamp");
  }
  std::string_view digits = sec;
  if (!digits.empty() && digits[0] == '-') digits.remove_prefix(1);
  if (!AllDigits(digits)) return absl::InvalidArgumentError("invalid timestamp");
  int64_t s = 0;
  if (!absl::SimpleAtoi(absl::string_view(sec.data(), sec.size()), &s))
    return absl::InvalidArgumentError("invalid timestamp");
  int64_t ns = 0;
  if (!frac.empty()) {
    std::string f(frac.substr(0, 9));
    f.resize(9, '0');
    if (!absl::SimpleAtoi(f, &ns)) return absl::InvalidArgumentError("invalid timestamp");
  }
  return std::make_pair(s, ns);
}

absl::StatusOr<std::string> GetTimestamp(std::string_view value, absl::Time reference,
                                         absl::TimeZone local) {
  absl::string_view v(value.data(), value.size());
  absl::Duration d;
  if (value != "0" && value != "inf" && value != "-inf" && value != "+inf" &&
      absl::ParseDuration(v, &d)) {
    return std::to_string(absl::ToUnixSeconds(reference - d));
  }
  // A Z, a + or three dashes: the value has its zone; otherwise local time.
  bool has_zone = value.find_first_of("zZ+") != std::string_view::npos || Count(value, '-') == 3;
  std::string text(value);
  // absl's %Ez wants "+00:00" for Go's "Z".
  if (has_zone && !text.empty() && (text.back() == 'Z' || text.back() == 'z')) {
    text.pop_back();
    text += "+00:00";
  }
  std::string format;
  if (value.find('.') != std::string_view::npos) {
    format = "%Y-%m-%dT%H:%M:%E*S";
  } else if (value.find('T') != std::string_view::npos) {
    size_t colons = Count(value, ':');
    if (has_zone && value.find_first_of("zZ") == std::string_view::npos && colons > 0) --colons;
    format = colons == 0 ? "%Y-%m-%dT%H" : colons == 1 ? "%Y-%m-%dT%H:%M" : "%Y-%m-%dT%H:%M:%S";
  } else {
    format = "%Y-%m-%d";
  }
  if (has_zone) format += "%Ez";
  absl::Time t;
  std::string err;
  if (absl::ParseTime(format, text, has_zone ? absl::UTCTimeZone() : local, &t, &err)) {
    int64_t secs = absl::ToUnixSeconds(t);
    int64_t ns = absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(secs));
    return absl::StrFormat("%d.%09d", secs, ns);
  }
  if (value.find('-') != std::string_view::npos) {
    return absl::InvalidArgumentError("parsing time \"" + std::string(value) + "\": " + err);
  }
  if (!ParseUnixTimestamp(value).ok()) {
    return absl::InvalidArgumentError("failed to parse value as time or duration: \"" +
                                      std::string(value) + "\"");
  }
  return std::string(value);
}

}  // namespace berth::cli
