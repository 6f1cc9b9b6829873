#include "cli/format/units.h"

#include <charconv>
#include <cmath>
#include <ctime>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/human_duration.h"
#include "fmt/format.h"

namespace berth::cli {
namespace {

constexpr const char* kDecimalAbbrs[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
constexpr const char* kBinaryAbbrs[] = {"B",   "KiB", "MiB", "GiB", "TiB",
                                        "PiB", "EiB", "ZiB", "YiB"};

template <size_t N>
std::pair<double, const char*> SizeAndUnit(double size, double base,
                                           const char* const (&abbrs)[N]) {
  size_t i = 0;
  while (size >= base && i < N - 1) {
    size /= base;
    ++i;
  }
  return {size, abbrs[i]};
}

// Splits a shortest/precision representation into digits and decimal exponent.
// Returns digits without dot and the exponent e such that value = 0.d1d2... * 10^e.
struct Decimal {
  std::string digits;
  int point = 0;  // position of the decimal point relative to digits
  bool negative = false;
};

Decimal ToDecimal(double value, int precision) {
  Decimal d;
  d.negative = std::signbit(value);
  value = std::fabs(value);
  char buf[64];
  std::to_chars_result r;
  if (precision < 0) {
    r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  } else {
    r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific,
                      precision > 0 ? precision - 1 : 0);
  }
  std::string s(buf, r.ptr);
  auto e = s.find('e');
  std::string mant = s.substr(0, e);
  int exp = std::stoi(s.substr(e + 1));
  for (char c : mant) {
    if (c != '.') d.digits += c;
  }
  d.point = exp + 1;
  return d;
}

std::string FormatDecimal(const Decimal& d, bool force_exp, bool trim) {
  std::string digits = d.digits;
  if (trim) {
    while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  }
  std::string out = d.negative ? "-" : "";
  if (force_exp) {
    int exp = d.point - 1;
    out += digits[0];
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += exp < 0 ? "e-" : "e+";
    int a = std::abs(exp);
    if (a < 10) out += "0";
    out += std::to_string(a);
    return out;
  }
  if (d.point <= 0) {
    out += "0." + std::string(static_cast<size_t>(-d.point), '0') + digits;
  } else if (static_cast<size_t>(d.point) >= digits.size()) {
    out += digits + std::string(static_cast<size_t>(d.point) - digits.size(), '0');
  } else {
    out += digits.substr(0, static_cast<size_t>(d.point)) + "." +
           digits.substr(static_cast<size_t>(d.point));
  }
  return out;
}

}  // namespace

std::string GoFormatG(double value, int precision) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == 0) return std::signbit(value) ? "-0" : "0";
  if (precision == 0) precision = 1;
  Decimal d = ToDecimal(value, precision);
  int exp = d.point - 1;
  // Go: %e when the exponent is < -4 or >= the precision (6 for the shortest form).
  int eprec = precision < 0 ? 6 : precision;
  return FormatDecimal(d, exp < -4 || exp >= eprec, true);
}

std::string GoFormatFloat(double value) { return GoFormatG(value, -1); }

std::string HumanSizeWithPrecision(double size, int precision) {
  auto [value, unit] = SizeAndUnit(size, 1000.0, kDecimalAbbrs);
  return GoFormatG(value, precision) + unit;
}

std::string HumanSize(double size) { return HumanSizeWithPrecision(size, 4); }

std::string BytesSize(double size) {
  auto [value, unit] = SizeAndUnit(size, 1024.0, kBinaryAbbrs);
  return GoFormatG(value, 4) + unit;
}

std::string HumanDuration(double seconds) { return berth::HumanDuration(absl::Seconds(seconds)); }

std::string TimeAgo(int64_t unix_seconds, int64_t now) {
  if (now < 0) {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    double diff =
        static_cast<double>(ts.tv_sec - unix_seconds) + static_cast<double>(ts.tv_nsec) / 1e9;
    return HumanDuration(diff) + " ago";
  }
  return HumanDuration(static_cast<double>(now - unix_seconds)) + " ago";
}

}  // namespace berth::cli
