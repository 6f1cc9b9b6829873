// Version, git commit and build date baked in at build time.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace berth {

absl::string_view Version();
absl::string_view GitCommit();
absl::string_view BuildDate();

// The --version text every binary prints:
//   <binary> version 0.1.0
//   commit: 1a2b3c4d5e6f
//   built: 2026-11-28T17:10:00Z
//   <extra key>: <extra value>...
// with no trailing newline.
std::string VersionText(absl::string_view binary,
                        const std::vector<std::pair<std::string, std::string>>& extra = {});

}  // namespace berth
