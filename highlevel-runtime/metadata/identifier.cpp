#include "highlevel-runtime/metadata/identifier.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace berth::runtimed {
namespace {

// Longer identifiers are cut in error messages.
constexpr size_t kMaxQuoted = 100;

bool IsIdentifier(absl::string_view id) {
  if (id.empty() || id.size() > kMaxIdentifierLength) return false;
  bool after_separator = true;  // at the start, as after a separator: a letter or digit must come
  for (char c : id) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
      after_separator = false;
    } else if ((c == '.' || c == '_' || c == '-') && !after_separator) {
      after_separator = true;
    } else {
      return false;
    }
  }
  return !after_separator;
}

}  // namespace

absl::Status ValidateIdentifier(absl::string_view id, absl::string_view what) {
  if (IsIdentifier(id)) return absl::OkStatus();
  std::string quoted = absl::CHexEscape(id.substr(0, kMaxQuoted));
  if (id.size() > kMaxQuoted) quoted += "...";
  return absl::InvalidArgumentError(
      absl::StrCat("invalid ", what, " \"", quoted,
                   "\": want letters and digits, single '.', '_' or '-' between them, at most ",
                   kMaxIdentifierLength));
}

}  // namespace berth::runtimed
