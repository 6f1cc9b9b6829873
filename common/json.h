// nlohmann::json with absl::Status errors: parse, files, typed field access.
// nlohmann throws; these helpers catch at the boundary so callers never see
// an exception, only a message that names the document and the field.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/fd_util.h"

namespace berth {

using Json = nlohmann::json;

// `what` names the document in errors, e.g. "config.json".
absl::StatusOr<Json> ParseJson(absl::string_view text, absl::string_view what);
absl::StatusOr<Json> ReadJsonFile(const std::string& path);
// Compact JSON, written atomically (temp file, fsync, rename).
absl::Status WriteJsonFileAtomic(const std::string& path, const Json& value, mode_t mode = 0644,
                                 Durability durability = Durability::kFsync);
// Compact, UTF-8 errors replaced rather than thrown.
std::string DumpJson(const Json& value, int indent = -1);

// "string", "number", "object"... for error messages.
absl::string_view JsonTypeName(const Json& value);

// Converts value to T or explains, naming `path` (e.g. "process.user.uid").
template <typename T>
absl::StatusOr<T> JsonAs(const Json& value, absl::string_view path) {
  try {
    return value.get<T>();
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": unexpected ", JsonTypeName(value), " value ", DumpJson(value)));
  }
}

// A required member of an object.
template <typename T>
absl::StatusOr<T> JsonField(const Json& object, absl::string_view key, absl::string_view path) {
  std::string full = path.empty() ? std::string(key) : absl::StrCat(path, ".", key);
  if (!object.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path.empty() ? "document" : path, ": expected an object, got ", JsonTypeName(object)));
  }
  auto it = object.find(std::string(key));
  if (it == object.end() || it->is_null()) {
    return absl::InvalidArgumentError(absl::StrCat(full, ": missing"));
  }
  return JsonAs<T>(*it, full);
}

// An optional member: nullopt when absent or null, an error when of the wrong type.
template <typename T>
absl::StatusOr<std::optional<T>> JsonOptionalField(const Json& object, absl::string_view key,
                                                   absl::string_view path) {
  if (!object.is_object()) return std::optional<T>();
  auto it = object.find(std::string(key));
  if (it == object.end() || it->is_null()) return std::optional<T>();
  std::string full = path.empty() ? std::string(key) : absl::StrCat(path, ".", key);
  auto value = JsonAs<T>(*it, full);
  if (!value.ok()) return value.status();
  return std::optional<T>(*std::move(value));
}

}  // namespace berth
