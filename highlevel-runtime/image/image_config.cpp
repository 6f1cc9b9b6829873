#include "highlevel-runtime/image/image_config.h"

#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "common/status.h"
#include "highlevel-runtime/image/reference.h"

namespace berth::runtimed {
namespace {

using Strings = std::vector<std::string>;

absl::Status Invalid(absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

// An optional member; absent or null reads as T().
template <typename T>
absl::StatusOr<T> Optional(const Json& object, absl::string_view key, absl::string_view path) {
  BERTH_ASSIGN_OR_RETURN(std::optional<T> value, JsonOptionalField<T>(object, key, path));
  return std::move(value).value_or(T());
}

// The keys of an optional set-like object ({"80/tcp": {}}), sorted.
absl::StatusOr<Strings> Keys(const Json& object, absl::string_view key, absl::string_view path) {
  auto it = object.find(std::string(key));
  if (it == object.end() || it->is_null()) return Strings();
  if (!it->is_object()) {
    return Invalid(absl::StrCat(path, ".", key),
                   absl::StrCat("expected an object, got ", JsonTypeName(*it)));
  }
  Strings keys;
  for (const auto& [name, value] : it->items()) keys.push_back(name);  // nlohmann keeps keys sorted
  return keys;
}

absl::Status ParseRunConfig(const Json& config, ImageConfig& out) {
  constexpr absl::string_view kPath = "config";
  if (!config.is_object()) {
    return Invalid(kPath, absl::StrCat("expected an object, got ", JsonTypeName(config)));
  }
  BERTH_ASSIGN_OR_RETURN(out.env, Optional<Strings>(config, "Env", kPath));
  BERTH_ASSIGN_OR_RETURN(out.cmd, Optional<Strings>(config, "Cmd", kPath));
  BERTH_ASSIGN_OR_RETURN(out.entrypoint, Optional<Strings>(config, "Entrypoint", kPath));
  BERTH_ASSIGN_OR_RETURN(out.working_dir, Optional<std::string>(config, "WorkingDir", kPath));
  BERTH_ASSIGN_OR_RETURN(out.user, Optional<std::string>(config, "User", kPath));
  BERTH_ASSIGN_OR_RETURN(out.exposed_ports, Keys(config, "ExposedPorts", kPath));
  BERTH_ASSIGN_OR_RETURN(out.volumes, Keys(config, "Volumes", kPath));
  BERTH_ASSIGN_OR_RETURN(out.labels,
                         (Optional<std::map<std::string, std::string>>(config, "Labels", kPath)));
  BERTH_ASSIGN_OR_RETURN(out.stop_signal, Optional<std::string>(config, "StopSignal", kPath));
  return absl::OkStatus();
}

absl::Status ParseRootfs(const Json& doc, ImageConfig& out) {
  BERTH_ASSIGN_OR_RETURN(Json rootfs, JsonField<Json>(doc, "rootfs", ""));
  if (!rootfs.is_object()) {
    return Invalid("rootfs", absl::StrCat("expected an object, got ", JsonTypeName(rootfs)));
  }
  BERTH_ASSIGN_OR_RETURN(out.rootfs_type, JsonField<std::string>(rootfs, "type", "rootfs"));
  if (out.rootfs_type != "layers") {
    return Invalid("rootfs.type",
                   absl::StrCat("unsupported \"", out.rootfs_type, "\" (want \"layers\")"));
  }
  auto diff_ids = rootfs.find("diff_ids");
  if (diff_ids == rootfs.end() || diff_ids->is_null()) return absl::OkStatus();
  if (!diff_ids->is_array()) {
    return Invalid("rootfs.diff_ids",
                   absl::StrCat("expected an array, got ", JsonTypeName(*diff_ids)));
  }
  for (size_t i = 0; i < diff_ids->size(); ++i) {
    std::string path = absl::StrCat("rootfs.diff_ids[", i, "]");
    BERTH_ASSIGN_OR_RETURN(std::string diff_id, JsonAs<std::string>((*diff_ids)[i], path));
    if (absl::Status st = ValidateDigest(diff_id); !st.ok()) return Invalid(path, st.message());
    out.diff_ids.push_back(std::move(diff_id));
  }
  return absl::OkStatus();
}

absl::StatusOr<ImageConfig> ParseDocument(const Json& doc) {
  if (!doc.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a JSON object, got ", JsonTypeName(doc)));
  }
  ImageConfig out;
  BERTH_ASSIGN_OR_RETURN(out.architecture, JsonField<std::string>(doc, "architecture", ""));
  BERTH_ASSIGN_OR_RETURN(out.os, JsonField<std::string>(doc, "os", ""));
  BERTH_ASSIGN_OR_RETURN(out.variant, Optional<std::string>(doc, "variant", ""));
  BERTH_ASSIGN_OR_RETURN(out.created, Optional<std::string>(doc, "created", ""));
  BERTH_ASSIGN_OR_RETURN(out.author, Optional<std::string>(doc, "author", ""));
  if (auto config = doc.find("config"); config != doc.end() && !config->is_null()) {
    BERTH_RETURN_IF_ERROR(ParseRunConfig(*config, out));
  }
  BERTH_RETURN_IF_ERROR(ParseRootfs(doc, out));
  if (auto history = doc.find("history"); history != doc.end() && !history->is_null()) {
    if (!history->is_array()) {
      return Invalid("history", absl::StrCat("expected an array, got ", JsonTypeName(*history)));
    }
    out.history_count = history->size();
  }
  return out;
}

}  // namespace

absl::StatusOr<ImageConfig> ParseImageConfig(absl::string_view text) {
  constexpr absl::string_view kDoc = "image config";
  BERTH_ASSIGN_OR_RETURN(Json doc, ParseJson(text, kDoc));
  absl::StatusOr<ImageConfig> config = ParseDocument(doc);
  if (!config.ok()) return Annotate(config.status(), kDoc);
  return config;
}

absl::Status CheckLayersMatch(const Manifest& manifest, const ImageConfig& config) {
  if (manifest.layers.size() != config.diff_ids.size()) {
    return absl::InvalidArgumentError(absl::StrCat("image config lists ", config.diff_ids.size(),
                                                   " diff_ids but the manifest has ",
                                                   manifest.layers.size(), " layers"));
  }
  return absl::OkStatus();
}

}  // namespace berth::runtimed
