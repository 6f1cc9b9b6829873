#include "common/json.h"

#include "common/fd_util.h"
#include "common/status.h"

namespace berth {

absl::StatusOr<Json> ParseJson(absl::string_view text, absl::string_view what) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
    absl::string_view message = e.what();
    if (auto pos = message.find("] "); pos != absl::string_view::npos) {
      message.remove_prefix(pos + 2);
    }
    return absl::InvalidArgumentError(absl::StrCat(what, ": invalid JSON: ", message));
  }
}

absl::StatusOr<Json> ReadJsonFile(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseJson(text, path);
}

absl::Status WriteJsonFileAtomic(const std::string& path, const Json& value, mode_t mode,
                                 Durability durability) {
  return WriteFileAtomic(path, DumpJson(value), mode, durability);
}

std::string DumpJson(const Json& value, int indent) {
  return value.dump(indent, ' ', false, Json::error_handler_t::replace);
}

absl::string_view JsonTypeName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::object:
      return "object";
    case Json::value_t::array:
      return "array";
    case Json::value_t::string:
      return "string";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "number";
    case Json::value_t::binary:
      return "binary";
    case Json::value_t::discarded:
      return "discarded";
  }
  return "unknown";
}

}  // namespace berth
