#include "absl/strings/str_cat.h"
#include "engine/routes/routes.h"

namespace berth::engine {

void SendStatus(http::ResponseWriter& w, const absl::Status& status) {
  int code = 500;
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      code = 404;
      break;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
      code = 409;
      break;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      code = 400;
      break;
    case absl::StatusCode::kPermissionDenied:
      code = 403;
      break;
    case absl::StatusCode::kUnimplemented:
      code = 501;
      break;
    case absl::StatusCode::kUnavailable:
      code = 503;
      break;
    default:
      break;
  }
  w.SendError(code, std::string(status.message()));
}

absl::StatusOr<nlohmann::json> ParseBody(const http::Request& r) {
  if (r.body.empty()) return nlohmann::json();
  nlohmann::json body = nlohmann::json::parse(r.body, nullptr, false);
  if (body.is_discarded()) {
    return absl::InvalidArgumentError("invalid JSON: the request body is not a JSON document");
  }
  return body;
}

}  // namespace berth::engine
