#include "engine/spec/image_config_merge.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace berth::engine::spec {
namespace {

// Go's zero value test for what a Config field decodes to.
bool IsZero(const Json& object, const char* key) {
  if (!object.is_object()) return true;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return true;
  if (it->is_string() || it->is_array() || it->is_object()) return it->empty();
  if (it->is_number()) return *it == 0;
  if (it->is_boolean()) return !it->get<bool>();
  return false;
}

const Json* Field(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

absl::Status ExpectType(const Json& object, const char* key, Json::value_t type,
                        const char* type_name) {
  const Json* value = Field(object, key);
  if (value == nullptr || value->type() == type) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("Config.", key, ": expected ", type_name, ", got ", JsonTypeName(*value)));
}

// The key of "KEY=value" (all of it when there is no '=').
std::string EnvKey(const std::string& entry) { return entry.substr(0, entry.find('=')); }

absl::StatusOr<std::vector<std::string>> StringList(const Json& object, const char* key,
                                                    const char* what) {
  const Json* value = Field(object, key);
  if (value == nullptr) return std::vector<std::string>();
  auto list = JsonAs<std::vector<std::string>>(*value, absl::StrCat(what, ".", key));
  if (!list.ok()) return list.status();
  return *std::move(list);
}

void MergeHealthcheck(Json& config, const Json& image) {
  const Json* image_check = Field(image, "Healthcheck");
  if (image_check == nullptr || !image_check->is_object()) return;
  const Json* user_check = Field(config, "Healthcheck");
  if (user_check == nullptr || !user_check->is_object()) {
    config["Healthcheck"] = *image_check;
    return;
  }
  Json& check = config["Healthcheck"];
  for (const char* key :
       {"Test", "Interval", "Timeout", "StartPeriod", "StartInterval", "Retries"}) {
    if (IsZero(check, key) && !IsZero(*image_check, key)) check[key] = (*image_check)[key];
  }
}

}  // namespace

absl::StatusOr<std::vector<std::string>> StringSlice(const Json& config, const std::string& key) {
  const Json* value = Field(config, key.c_str());
  if (value == nullptr) return std::vector<std::string>();
  if (value->is_string()) return std::vector<std::string>{value->get<std::string>()};
  return JsonAs<std::vector<std::string>>(*value, absl::StrCat("Config.", key));
}

absl::Status MergeImageConfig(Json& config, const Json& image_config) {
  if (config.is_null()) config = Json::object();
  if (!config.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Config: expected an object, got ", JsonTypeName(config)));
  }
  static const Json kEmpty = Json::object();
  const Json& image = image_config.is_object() ? image_config : kEmpty;
  for (const char* key : {"User", "WorkingDir", "StopSignal"}) {
    BERTH_RETURN_IF_ERROR(ExpectType(config, key, Json::value_t::string, "a string"));
  }
  for (const char* key : {"ExposedPorts", "Volumes", "Labels"}) {
    BERTH_RETURN_IF_ERROR(ExpectType(config, key, Json::value_t::object, "an object"));
  }

  for (const char* key : {"User", "WorkingDir", "StopSignal"}) {
    if (IsZero(config, key) && !IsZero(image, key)) config[key] = image[key];
  }

  // ExposedPorts and Volumes: the union (the image's entries added).
  for (const char* key : {"ExposedPorts", "Volumes"}) {
    const Json* from_image = Field(image, key);
    if (from_image == nullptr || !from_image->is_object()) continue;
    if (IsZero(config, key)) {
      config[key] = *from_image;
      continue;
    }
    for (const auto& [name, value] : from_image->items()) {
      if (!config[key].contains(name)) config[key][name] = value;
    }
  }

  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> env, StringList(config, "Env", "Config"));
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> image_env, StringList(image, "Env", "image"));
  if (env.empty()) {
    env = image_env;
  } else {
    std::vector<std::string> user_keys;
    for (const std::string& entry : env) user_keys.push_back(EnvKey(entry));
    for (const std::string& entry : image_env) {
      if (std::find(user_keys.begin(), user_keys.end(), EnvKey(entry)) == user_keys.end()) {
        env.push_back(entry);
      }
    }
  }
  if (!env.empty() || Field(config, "Env") != nullptr) config["Env"] = env;

  if (Field(config, "Labels") == nullptr) config["Labels"] = Json::object();
  if (const Json* labels = Field(image, "Labels"); labels != nullptr && labels->is_object()) {
    for (const auto& [name, value] : labels->items()) {
      if (!config["Labels"].contains(name)) config["Labels"][name] = value;
    }
  }

  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> entrypoint, StringSlice(config, "Entrypoint"));
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> cmd, StringSlice(config, "Cmd"));
  const bool entrypoint_null = Field(config, "Entrypoint") == nullptr;
  if (entrypoint.empty()) {
    if (cmd.empty()) {
      BERTH_ASSIGN_OR_RETURN(cmd, StringSlice(image, "Cmd"));
      if (const Json* escaped = Field(image, "ArgsEscaped")) config["ArgsEscaped"] = *escaped;
    }
    if (entrypoint_null) {
      BERTH_ASSIGN_OR_RETURN(entrypoint, StringSlice(image, "Entrypoint"));
    }
  }
  // ["" ] is how `--entrypoint ""` asks for no entrypoint at all.
  if (entrypoint.size() == 1 && entrypoint[0].empty()) entrypoint.clear();
  config["Entrypoint"] = entrypoint.empty() ? Json() : Json(entrypoint);
  config["Cmd"] = cmd.empty() ? Json() : Json(cmd);

  MergeHealthcheck(config, image);

  if (entrypoint.empty() && cmd.empty()) {
    return absl::InvalidArgumentError("No command specified");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ProcessArgs(const Json& config) {
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> args, StringSlice(config, "Entrypoint"));
  if (args.size() == 1 && args[0].empty()) args.clear();
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> cmd, StringSlice(config, "Cmd"));
  args.insert(args.end(), cmd.begin(), cmd.end());
  if (args.empty()) return absl::InvalidArgumentError("No command specified");
  return args;
}

}  // namespace berth::engine::spec
