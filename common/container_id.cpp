#include "common/container_id.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace berth {
namespace {

// Longer ids are cut in error messages.
constexpr size_t kMaxQuoted = 100;

bool IsIdChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '-' ||
         c == '.';
}

}  // namespace

absl::Status ValidateContainerId(absl::string_view id) {
  bool ok = !id.empty() && id.size() <= kMaxContainerIdLength && id[0] != '.' && id[0] != '-';
  for (char c : id) ok = ok && IsIdChar(c);
  if (ok) return absl::OkStatus();
  std::string quoted = absl::CHexEscape(id.substr(0, kMaxQuoted));
  if (id.size() > kMaxQuoted) quoted += "...";
  return absl::InvalidArgumentError(
      absl::StrCat("invalid container id \"", quoted,
                   "\": want 1 to 1024 letters, digits, '_', '+', '-' or '.', not starting with "
                   "'.' or '-'"));
}

}  // namespace berth
