#include "common/byte_size.h"

#include <cctype>
#include <cmath>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace berth {
namespace {

// go-units' parseSize: ^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$
absl::StatusOr<int64_t> ParseSize(absl::string_view text, double unit) {
  auto invalid = [&] {
    return absl::InvalidArgumentError(absl::StrCat("invalid size: '", text, "'"));
  };
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    return i > start;
  };
  if (!digits()) return invalid();
  while (i < text.size() && text[i] == '.') {
    ++i;
    if (!digits()) return invalid();
  }
  double value = 0;
  if (!absl::SimpleAtod(text.substr(0, i), &value)) return invalid();
  if (i < text.size() && text[i] == ' ') ++i;
  double multiplier = 1;
  if (i < text.size()) {
    static constexpr absl::string_view kPrefixes = "kmgtp";
    size_t power =
        kPrefixes.find(static_cast<char>(std::tolower(static_cast<unsigned char>(text[i]))));
    if (power != absl::string_view::npos) {
      multiplier = std::pow(unit, static_cast<double>(power + 1));
      ++i;
    }
  }
  if (i < text.size() && (text[i] == 'i' || text[i] == 'I')) ++i;
  if (i < text.size() && (text[i] == 'b' || text[i] == 'B')) ++i;
  if (i != text.size()) return invalid();
  return static_cast<int64_t>(value * multiplier);
}

}  // namespace

absl::StatusOr<int64_t> FromHumanSize(absl::string_view size) { return ParseSize(size, 1000.0); }

absl::StatusOr<int64_t> RAMInBytes(absl::string_view size) { return ParseSize(size, 1024.0); }

}  // namespace berth
