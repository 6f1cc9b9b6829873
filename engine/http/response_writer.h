// How a handler answers: a whole response, a chunked stream, or a hijacked connection.
#pragma once

#include <concepts>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace berth::engine::http {

class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;

  // Sets (replaces, case-insensitive name) a response header; only before any send.
  virtual void SetHeader(std::string name, std::string value) = 0;

  // A whole response with Content-Length. An empty content_type sends none (e.g. 204).
  // HEAD requests get the headers (with the body's Content-Length) and no body.
  virtual void Send(int status, std::string_view content_type, std::string body) = 0;
  // application/json, j.dump() + "\n" (docker's encoder appends a newline).
  void SendJson(int status, const nlohmann::json& j);
  // The same, keeping the object's key order (Docker's struct field order). A
  // template, so a braced list still means nlohmann::json.
  template <typename OrderedJson>
  requires std::same_as<OrderedJson, nlohmann::ordered_json>
  void SendJson(int status, const OrderedJson& j) { SendOrderedJson(status, j); }
  // {"message": "..."} as application/json, as docker answers errors.
  void SendError(int status, std::string_view message);
  void SendNoContent(int status = 204);

  // Streaming (chunked transfer encoding). BeginStream writes and flushes the headers, so a
  // client waiting on a long body (e.g. /containers/{id}/wait) sees them at once. Write sends
  // one chunk and flushes it; it returns false once the client is gone (or before
  // BeginStream). End writes the final chunk; the server calls it when the handler returns.
  virtual void BeginStream(int status, std::string_view content_type) = 0;
  virtual bool Write(std::string_view data) = 0;
  virtual void End() = 0;

  // Connection hijack for attach/exec (moby postContainersAttach). When the request had an
  // Upgrade header, writes "HTTP/1.1 101 UPGRADED\r\nContent-Type: <content_type>\r\n
  // Connection: Upgrade\r\nUpgrade: tcp\r\n", else "HTTP/1.1 200 OK\r\nContent-Type:
  // <content_type>\r\n"; then the other response headers (Api-Version, Server, ...) and
  // "\r\n". Hands over the socket (blocking mode, close-on-exec) and any bytes already read
  // past the request (stdin the client sent right after the headers). The server never
  // touches the connection again; the handler owns the fd.
  struct Hijacked {
    UniqueFd fd;
    std::string buffered;
  };
  virtual absl::StatusOr<Hijacked> Hijack(std::string_view content_type) = 0;

  // True once the peer has closed its side (or the connection broke). Consumes nothing;
  // handlers poll it during long waits.
  virtual bool ClientGone() = 0;
  // Some response (Send, BeginStream or Hijack) has already started.
  virtual bool Sent() const = 0;

 private:
  void SendOrderedJson(int status, const nlohmann::ordered_json& j);
};

}  // namespace berth::engine::http
