#include "engine/daemon/log_config.h"

#include <re2/re2.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/byte_size.h"
#include "common/status.h"

namespace berth::engine {
namespace {

constexpr const char* kJsonFileOpts[] = {"max-file",     "max-size", "compress",  "labels",
                                         "labels-regex", "env",      "env-regex", "tag"};

absl::Status ValidateJsonFileOpts(const nlohmann::json& config) {
  for (const auto& [key, value] : config.items()) {
    if (std::find(std::begin(kJsonFileOpts), std::end(kJsonFileOpts), key) ==
        std::end(kJsonFileOpts)) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown log opt '", key, "' for json-file log driver"));
    }
    if (!value.is_string()) {
      return absl::InvalidArgumentError(absl::StrCat("log opt '", key, "' must be a string"));
    }
  }
  return absl::OkStatus();
}

// The env option's names, or the labels option's keys: "a,b".
std::vector<std::string> SplitKeys(const nlohmann::json& config, const char* key) {
  std::vector<std::string> out;
  if (!config.contains(key)) return out;
  for (absl::string_view k : absl::StrSplit(config[key].get<std::string>(), ',')) {
    if (!k.empty()) out.emplace_back(k);
  }
  return out;
}

}  // namespace

absl::StatusOr<nlohmann::json> ResolveLogConfig(
    const nlohmann::json& requested, const std::map<std::string, std::string>& defaults) {
  std::string type = "json-file";
  nlohmann::json config = nlohmann::json::object();
  if (requested.is_object()) {
    if (requested.contains("Type") && requested["Type"].is_string() &&
        !requested["Type"].get<std::string>().empty()) {
      type = requested["Type"].get<std::string>();
    }
    if (requested.contains("Config") && requested["Config"].is_object()) {
      config = requested["Config"];
    }
  }
  if (type == "none") {
    return nlohmann::json{{"Type", type}, {"Config", config}};
  }
  if (type != "json-file") {
    return absl::InvalidArgumentError(absl::StrCat("error looking up logging plugin ", type,
                                                   ": plugin \"", type, "\" not found"));
  }
  for (const auto& [key, value] : defaults) {
    if (!config.contains(key)) config[key] = value;
  }
  if (absl::Status valid = ValidateJsonFileOpts(config); !valid.ok()) return valid;
  // The values, checked now (dockerd finds them bad only at the start, in
  // these words).
  if (auto options = JsonFileOptionsFor({{"Type", type}, {"Config", config}},
                                        nlohmann::json::object(), nlohmann::json::array());
      !options.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("failed to initialize logging driver: ", options.status().message()));
  }
  return nlohmann::json{{"Type", type}, {"Config", config}};
}

absl::StatusOr<JsonFileOptions> JsonFileOptionsFor(const nlohmann::json& log_config,
                                                   const nlohmann::json& labels,
                                                   const nlohmann::json& env) {
  JsonFileOptions out;
  const nlohmann::json config = log_config.value("Config", nlohmann::json::object());
  BERTH_RETURN_IF_ERROR(ValidateJsonFileOpts(config));
  if (config.contains("max-size")) {
    auto size = FromHumanSize(config["max-size"].get<std::string>());
    if (!size.ok()) return size.status();
    if (*size <= 0) return absl::InvalidArgumentError("max-size must be a positive number");
    out.max_size = *size;
  }
  if (config.contains("max-file")) {
    const std::string text = config["max-file"].get<std::string>();
    if (!absl::SimpleAtoi(text, &out.max_files)) {
      return absl::InvalidArgumentError(
          absl::StrCat("strconv.Atoi: parsing \"", text, "\": invalid syntax"));
    }
    if (out.max_files < 1) return absl::InvalidArgumentError("max-file cannot be less than 1");
  }
  if (config.value("compress", "false") != "false") {
    const std::string text = config["compress"].get<std::string>();
    if (text != "true" && text != "1" && text != "0") {
      return absl::InvalidArgumentError(
          absl::StrCat("strconv.ParseBool: parsing \"", text, "\": invalid syntax"));
    }
    if (text != "0") {
      return absl::InvalidArgumentError(
          "compress: berthd's json-file driver keeps rotated logs uncompressed");
    }
  }
  // The attrs, as dockerd's Info.ExtraAttributes: the listed labels and env
  // variables the container has, and those whose key matches the regexes.
  std::map<std::string, std::string> attrs;
  auto add_matching =
      [&](const std::vector<std::string>& keys, const char* regex_key,
          const std::vector<std::pair<std::string, std::string>>& have) -> absl::Status {
    for (const auto& [k, v] : have) {
      if (std::find(keys.begin(), keys.end(), k) != keys.end()) attrs[k] = v;
    }
    if (!config.contains(regex_key)) return absl::OkStatus();
    RE2 re(config[regex_key].get<std::string>(), RE2::Quiet);
    if (!re.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("error parsing regexp: ", re.error()));
    }
    for (const auto& [k, v] : have) {
      if (RE2::PartialMatch(k, re)) attrs[k] = v;
    }
    return absl::OkStatus();
  };
  std::vector<std::pair<std::string, std::string>> label_pairs, env_pairs;
  if (labels.is_object()) {
    for (const auto& [k, v] : labels.items()) {
      if (v.is_string()) label_pairs.emplace_back(k, v.get<std::string>());
    }
  }
  if (env.is_array()) {
    for (const auto& e : env) {
      if (!e.is_string()) continue;
      const std::string text = e.get<std::string>();
      size_t eq = text.find('=');
      if (eq != std::string::npos) env_pairs.emplace_back(text.substr(0, eq), text.substr(eq + 1));
    }
  }
  BERTH_RETURN_IF_ERROR(add_matching(SplitKeys(config, "labels"), "labels-regex", label_pairs));
  BERTH_RETURN_IF_ERROR(add_matching(SplitKeys(config, "env"), "env-regex", env_pairs));
  out.attrs.assign(attrs.begin(), attrs.end());
  return out;
}

}  // namespace berth::engine
