#include "engine/routes/detach_keys.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace berth::engine {

absl::StatusOr<std::string> ParseDetachKeys(absl::string_view spec) {
  if (spec.empty()) return std::string("\x10\x11");
  std::string keys;
  for (absl::string_view key : absl::StrSplit(spec, ',')) {
    std::string lower = absl::AsciiStrToLower(key);
    if (lower.size() == 1) {
      keys += key[0];
    } else if (lower.size() == 6 && absl::StartsWith(lower, "ctrl-") &&
               ((lower[5] >= 'a' && lower[5] <= 'z') || lower[5] == '@' || lower[5] == '[' ||
                lower[5] == '\\' || lower[5] == ']' || lower[5] == '^' || lower[5] == '_')) {
      char c = lower[5];
      keys += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 1 : c - '@');
    } else {
      return absl::InvalidArgumentError(absl::StrCat("Invalid detach keys (", spec, ") provided"));
    }
  }
  return keys;
}

std::string DetachDetector::Feed(absl::string_view data, bool* detached) {
  *detached = false;
  if (keys_.empty()) return std::string(data);
  std::string out;
  for (char c : data) {
    if (c != keys_[matched_] && matched_ > 0) {
      out.append(keys_, 0, matched_);  // not the keys after all
      matched_ = 0;
    }
    if (c == keys_[matched_]) {
      if (++matched_ == keys_.size()) {
        *detached = true;
        return out;
      }
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace berth::engine
