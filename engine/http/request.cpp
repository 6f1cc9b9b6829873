#include "engine/http/request.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/http/strings.h"

namespace berth::engine::http {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `in`; with plus_is_space, '+' becomes ' ' (query component rules).
bool Unescape(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

std::string_view TrimSpace(std::string_view s) {
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// strconv.Atoi as docker's versions.compare uses it: errors give 0, overflow clamps.
int64_t AtoiClamped(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    neg = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return 0;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return 0;
    if (v > (INT64_MAX - (c - '0')) / 10) return neg ? INT64_MIN : INT64_MAX;
    v = v * 10 + (c - '0');
  }
  return neg ? -v : v;
}

}  // namespace

bool DecodePath(std::string_view in, std::string* out) { return Unescape(in, false, out); }

std::multimap<std::string, std::string> ParseQuery(std::string_view raw) {
  std::multimap<std::string, std::string> result;
  while (!raw.empty()) {
    size_t amp = raw.find('&');
    std::string_view pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::string k, v;
    if (!Unescape(key, true, &k) || !Unescape(value, true, &v)) continue;
    result.emplace(std::move(k), std::move(v));
  }
  return result;
}

int CompareApiVersions(std::string_view a, std::string_view b) {
  if (a == b) return 0;
  auto split = [](std::string_view s) {
    std::vector<int64_t> parts;
    for (;;) {
      size_t dot = s.find('.');
      parts.push_back(AtoiClamped(s.substr(0, dot)));
      if (dot == std::string_view::npos) break;
      s.remove_prefix(dot + 1);
    }
    return parts;
  };
  std::vector<int64_t> x = split(a), y = split(b);
  for (size_t i = 0; i < std::max(x.size(), y.size()); ++i) {
    int64_t p = i < x.size() ? x[i] : 0;
    int64_t q = i < y.size() ? y[i] : 0;
    if (p != q) return p < q ? -1 : 1;
  }
  return 0;
}

std::string Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return "";
}

bool Request::HasHeader(std::string_view name) const {
  for (const auto& h : headers) {
    if (EqualsIgnoreCase(h.first, name)) return true;
  }
  return false;
}

std::string Request::Query(std::string_view key, std::string_view def) const {
  auto it = query.find(std::string(key));
  if (it == query.end()) return std::string(def);
  return it->second;
}

bool Request::HasQuery(std::string_view key) const {
  return query.find(std::string(key)) != query.end();
}

std::vector<std::string> Request::QueryAll(std::string_view key) const {
  std::vector<std::string> values;
  auto [begin, end] = query.equal_range(std::string(key));
  for (auto it = begin; it != end; ++it) values.push_back(it->second);
  return values;
}

bool Request::QueryBool(std::string_view key, bool def) const {
  auto it = query.find(std::string(key));
  if (it == query.end()) return def;
  std::string v = ToLower(TrimSpace(it->second));
  return !(v.empty() || v == "0" || v == "no" || v == "false" || v == "none");
}

absl::StatusOr<int64_t> Request::QueryInt(std::string_view key, int64_t def) const {
  std::string value = Query(key);
  if (value.empty()) return def;
  std::string_view digits = value;
  bool neg = false;
  if (digits.front() == '+' || digits.front() == '-') {
    neg = digits.front() == '-';
    digits.remove_prefix(1);
  }
  // Parsed as unsigned magnitude so that INT64_MIN round-trips.
  uint64_t magnitude = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
  bool syntax_ok = !digits.empty() && ptr == digits.data() + digits.size() &&
                   (ec == std::errc() || ec == std::errc::result_out_of_range);
  if (!syntax_ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("strconv.ParseInt: parsing \"", value, "\": invalid syntax"));
  }
  const uint64_t limit = neg ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (ec == std::errc::result_out_of_range || magnitude > limit) {
    return absl::InvalidArgumentError(
        absl::StrCat("strconv.ParseInt: parsing \"", value, "\": value out of range"));
  }
  if (neg) return magnitude == (uint64_t{1} << 63) ? INT64_MIN : -static_cast<int64_t>(magnitude);
  return static_cast<int64_t>(magnitude);
}

}  // namespace berth::engine::http
