#include "engine/http/response_writer.h"

namespace berth::engine::http {

void ResponseWriter::SendJson(int status, const nlohmann::json& j) {
  // Invalid UTF-8 in a string is replaced rather than thrown on.
  std::string body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  body.push_back('\n');
  Send(status, "application/json", std::move(body));
}

void ResponseWriter::SendOrderedJson(int status, const nlohmann::ordered_json& j) {
  std::string body = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  body.push_back('\n');
  Send(status, "application/json", std::move(body));
}

void ResponseWriter::SendError(int status, std::string_view message) {
  SendJson(status, nlohmann::json{{"message", std::string(message)}});
}

void ResponseWriter::SendNoContent(int status) { Send(status, "", ""); }

}  // namespace berth::engine::http
