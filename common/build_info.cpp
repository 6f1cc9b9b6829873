#include "common/build_info.h"

#include "absl/strings/str_cat.h"

namespace berth {
namespace build_info_data {
extern const char kVersion[];
extern const char kCommit[];
extern const char kBuildDate[];
}  // namespace build_info_data

absl::string_view Version() { return build_info_data::kVersion; }
absl::string_view GitCommit() { return build_info_data::kCommit; }
absl::string_view BuildDate() { return build_info_data::kBuildDate; }

std::string VersionText(absl::string_view binary,
                        const std::vector<std::pair<std::string, std::string>>& extra) {
  std::string text = absl::StrCat(binary, " version ", Version(), "\ncommit: ", GitCommit(),
                                  "\nbuilt: ", BuildDate());
  for (const auto& [key, value] : extra) absl::StrAppend(&text, "\n", key, ": ", value);
  return text;
}

}  // namespace berth
