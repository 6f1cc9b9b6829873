#include <sys/socket.h>

#include "absl/strings/numbers.h"
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

bool WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Docker's stdcopy frame: [stream, 0, 0, 0, size (big-endian uint32)] + data.
std::string Frame(StreamKind stream, const std::string& data) {
  std::string frame(8, '\0');
  frame[0] = static_cast<char>(stream);
  const auto size = static_cast<uint32_t>(data.size());
  frame[4] = static_cast<char>(size >> 24);
  frame[5] = static_cast<char>(size >> 16);
  frame[6] = static_cast<char>(size >> 8);
  frame[7] = static_cast<char>(size);
  return frame + data;
}

absl::StatusOr<std::pair<uint32_t, uint32_t>> ResizeQuery(const http::Request& r) {
  std::pair<uint32_t, uint32_t> size;
  for (auto [key, out] : {std::pair{"h", &size.first}, std::pair{"w", &size.second}}) {
    std::string text = r.Query(key);
    if (!absl::SimpleAtoi(text, out)) {
      return absl::InvalidArgumentError(
          absl::StrCat("strconv.ParseUint: parsing \"", text, "\": invalid syntax"));
    }
  }
  return size;
}

}  // namespace berth::engine
