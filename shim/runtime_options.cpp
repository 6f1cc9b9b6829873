#include "shim/runtime_options.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/fd_util.h"
#include "common/json.h"
#include "common/status.h"
#include "containerd/runc/options.pb.h"
#include "containerd/runtimeoptions/options.pb.h"

namespace berth::shim {

absl::StatusOr<RuntimeOptions> RuntimeOptionsFromToml(absl::string_view toml,
                                                      absl::string_view origin) {
  RuntimeOptions options;
  for (absl::string_view line : absl::StrSplit(toml, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#' || line[0] == '[') continue;
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits('=', 1));
    absl::string_view key = absl::StripAsciiWhitespace(kv.first);
    absl::string_view value = absl::StripAsciiWhitespace(kv.second);
    bool quoted = value.size() >= 2 && value.front() == '"' && value.back() == '"';
    if (quoted) value = value.substr(1, value.size() - 2);
    if (key == "BinaryName" && quoted) {
      options.binary_name = std::string(value);
    } else if (key == "Root" && quoted) {
      options.root = std::string(value);
    } else if (key == "NoPivotRoot" && (value == "true" || value == "false")) {
      options.no_pivot_root = value == "true";
    } else if (key == "NoNewKeyring" && (value == "true" || value == "false")) {
      options.no_new_keyring = value == "true";
    } else if (key == "BinaryName" || key == "Root" || key == "NoPivotRoot" ||
               key == "NoNewKeyring") {
      return absl::InvalidArgumentError(absl::StrCat(origin, ": bad value for ", key, ": ", value));
    }
  }
  return options;
}

absl::StatusOr<RuntimeOptions> RuntimeOptionsFromAny(const berth::wire::Any& any) {
  RuntimeOptions options;
  if (any.type_url().empty()) return options;
  if (absl::EndsWith(any.type_url(), "runtimeoptions.v1.Options")) {
    runtimeoptions::v1::Options config;
    if (!config.ParseFromString(any.value())) {
      return absl::InvalidArgumentError("malformed runtimeoptions.v1.Options");
    }
    if (!config.config_body().empty()) {
      return RuntimeOptionsFromToml(config.config_body(), "runtime options");
    }
    if (config.config_path().empty()) return options;
    BERTH_ASSIGN_OR_RETURN(std::string toml, ReadFileToString(config.config_path()));
    return RuntimeOptionsFromToml(toml, config.config_path());
  }
  if (!absl::EndsWith(any.type_url(), "containerd.runc.v1.Options")) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported runtime options type \"", any.type_url(), "\""));
  }
  containerd::runc::v1::Options runc;
  if (!runc.ParseFromString(any.value())) {
    return absl::InvalidArgumentError("malformed containerd.runc.v1.Options");
  }
  options.binary_name = runc.binary_name();
  options.root = runc.root();
  options.no_pivot_root = runc.no_pivot_root();
  options.no_new_keyring = runc.no_new_keyring();
  return options;
}

void ResolveRuntimeOptions(RuntimeOptions& options, const std::string& namespace_name) {
  if (options.binary_name.empty()) options.binary_name = kDefaultRuntimeBinary;
  if (options.root.empty()) options.root = kDefaultRuntimeRoot;
  options.root = absl::StrCat(options.root, "/", namespace_name);
}

absl::Status SaveRuntimeOptions(const std::string& bundle, const RuntimeOptions& options) {
  Json j = {{"binary_name", options.binary_name},
            {"root", options.root},
            {"no_pivot_root", options.no_pivot_root},
            {"no_new_keyring", options.no_new_keyring}};
  return WriteJsonFileAtomic(bundle + "/options.json", j, 0600, Durability::kNoFsync);
}

absl::StatusOr<RuntimeOptions> LoadRuntimeOptions(const std::string& bundle) {
  BERTH_ASSIGN_OR_RETURN(Json j, ReadJsonFile(bundle + "/options.json"));
  RuntimeOptions options;
  try {
    options.binary_name = j.at("binary_name").get<std::string>();
    options.root = j.at("root").get<std::string>();
    options.no_pivot_root = j.value("no_pivot_root", false);
    options.no_new_keyring = j.value("no_new_keyring", false);
  } catch (const Json::exception& e) {
    return absl::DataLossError(absl::StrCat(bundle, "/options.json: ", e.what()));
  }
  return options;
}

}  // namespace berth::shim
