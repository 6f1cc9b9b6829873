// A ttrpc server on an EventLoop: accepts connections on a listening unix
// socket, decodes Request frames, dispatches "service/method" to a handler and
// writes the Response frame with the same stream id. Requests on one
// connection may be answered out of order (a handler may keep its Responder and
// answer later, as Wait does). Unknown methods answer Unimplemented; garbage on
// a connection (an unparsable frame or Request, an oversized frame) closes that
// connection only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "common/event_loop.h"
#include "common/unique_fd.h"

namespace berth::ttrpc {

class Connection;

// Answers one request, once. Dropping a Responder without answering answers
// Internal ("request dropped"). If the connection has closed meanwhile the
// answer is discarded.
class Responder {
 public:
  Responder(std::weak_ptr<Connection> connection, uint32_t stream_id)
      : connection_(std::move(connection)), stream_id_(stream_id) {}
  Responder(Responder&& other) noexcept;
  Responder& operator=(Responder&& other) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  void Reply(const std::string& payload);  // status OK
  void Fail(const absl::Status& status);   // code and message; absl codes are gRPC codes

 private:
  void Send(const absl::Status& status, const std::string& payload);
  std::weak_ptr<Connection> connection_;
  uint32_t stream_id_ = 0;
  bool answered_ = false;
};

// payload: the Request's payload (the method's encoded request message).
using Handler = std::function<void(const std::string& payload, Responder responder)>;

class Server {
 public:
  explicit Server(EventLoop& loop) : loop_(loop) {}
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // service: e.g. "containerd.task.v2.Task"; method: e.g. "Create".
  void Register(const std::string& service, const std::string& method, Handler handler);
  // Takes a listening SOCK_STREAM unix socket and accepts on it from the loop.
  absl::Status Serve(UniqueFd listener);
  size_t ConnectionCount() const { return connections_.size(); }
  // Called when a connection closes (the shim's "client went away").
  void OnDisconnect(std::function<void()> callback) { on_disconnect_ = std::move(callback); }

 private:
  friend class Connection;
  void Accept();
  void Dispatch(const std::shared_ptr<Connection>& connection, uint32_t stream_id,
                const std::string& frame_payload);
  void Close(int fd);

  EventLoop& loop_;
  UniqueFd listener_;
  std::map<std::string, Handler> handlers_;  // "service/method"
  std::map<int, std::shared_ptr<Connection>> connections_;
  std::function<void()> on_disconnect_;
};

}  // namespace berth::ttrpc
