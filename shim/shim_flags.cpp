#include "shim/shim_flags.h"

#include <map>

#include "absl/strings/str_cat.h"

namespace berth::shim {

absl::StatusOr<ShimFlags> ParseShimFlags(const std::vector<std::string>& args) {
  ShimFlags flags;
  const std::map<std::string, std::string ShimFlags::*> string_flags = {
      {"namespace", &ShimFlags::namespace_name},
      {"address", &ShimFlags::address},
      {"publish-binary", &ShimFlags::publish_binary},
      {"id", &ShimFlags::id},
      {"bundle", &ShimFlags::bundle}};
  const std::map<std::string, bool ShimFlags::*> bool_flags = {{"debug", &ShimFlags::debug},
                                                               {"v", &ShimFlags::version},
                                                               {"version", &ShimFlags::version},
                                                               {"info", &ShimFlags::info}};

  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg.empty() || arg[0] != '-') {
      if (!flags.action.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", arg, "\""));
      }
      if (arg != "start" && arg != "delete") {
        return absl::InvalidArgumentError(absl::StrCat("unknown action \"", arg, "\""));
      }
      flags.action = arg;
      continue;
    }
    std::string name = arg.substr(arg.rfind('-', 1) == 1 ? 2 : 1);
    std::string value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    if (auto it = bool_flags.find(name); it != bool_flags.end()) {
      bool on = true;
      if (has_value) {
        if (value == "true" || value == "1") {
          on = true;
        } else if (value == "false" || value == "0") {
          on = false;
        } else {
          return absl::InvalidArgumentError(
              absl::StrCat("invalid boolean value \"", value, "\" for -", name));
        }
      }
      flags.*(it->second) = on;
      continue;
    }
    auto it = string_flags.find(name);
    if (it == string_flags.end()) {
      return absl::InvalidArgumentError(absl::StrCat("flag provided but not defined: -", name));
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat("flag needs an argument: -", name));
      }
      value = args[++i];
    }
    flags.*(it->second) = value;
  }
  return flags;
}

}  // namespace berth::shim
