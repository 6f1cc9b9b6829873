#include "common/ttrpc/server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status.h"
#include "common/ttrpc/frame.h"
#include "ttrpc/ttrpc.pb.h"

namespace berth::ttrpc {

// One accepted connection: reads frames, dispatches requests through the
// server, and queues responses (watching EPOLLOUT while the socket is full).
// Owned by Server::connections_; Responders and the loop callback hold weak
// references and lock them only for the duration of a call.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server* server, UniqueFd fd) : server_(server), fd_(std::move(fd)) {}

  int fd() const { return fd_.Get(); }
  bool closed() const { return server_ == nullptr; }

  void OnEvents(uint32_t events) {
    if (closed()) return;
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
      ReadReady();
      if (closed()) return;
    }
    if (events & EPOLLOUT) Flush();
  }

  // Queues one frame and writes what the socket takes now.
  void Send(uint32_t stream_id, uint8_t type, const std::string& payload) {
    if (closed()) return;
    auto frame = EncodeFrame(stream_id, type, payload);
    if (!frame.ok()) {
      LogDebug("ttrpc: dropping response on stream {}: {}", stream_id, frame.status().ToString());
      return;
    }
    if (out_offset_ == out_.size()) {
      out_ = std::move(*frame);
      out_offset_ = 0;
    } else {
      out_.append(*frame);
    }
    Flush();
  }

  // Called by the server once the connection is out of the loop and its map.
  void Shutdown() {
    server_ = nullptr;
    fd_.Reset();
    out_.clear();
    out_offset_ = 0;
  }

 private:
  // Asks the server to drop this connection (which calls Shutdown()).
  void Close(absl::string_view why) {
    if (closed()) return;
    LogDebug("ttrpc: closing connection fd {}: {}", fd_.Get(), why);
    server_->Close(fd_.Get());
  }

  void ReadReady() {
    char buf[64 * 1024];
    // Bounded per event so one busy client cannot starve the others; the
    // loop is level-triggered and calls again.
    for (int round = 0; round < 16; ++round) {
      ssize_t n = ::read(fd_.Get(), buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        Close(absl::StrCat("read: ", strerror(errno)));
        return;
      }
      if (n == 0) {
        Close(reader_.Pending() ? "EOF inside a frame" : "EOF");
        return;
      }
      reader_.Append(buf, static_cast<size_t>(n));
      for (;;) {
        auto frame = reader_.Next();
        if (!frame.ok()) {
          Close(frame.status().message());
          return;
        }
        if (!frame->has_value()) break;
        Frame& f = **frame;
        if (f.header.type != kMessageTypeRequest) {
          Close(absl::StrCat("unexpected frame type ", f.header.type));
          return;
        }
        server_->Dispatch(shared_from_this(), f.header.stream_id, f.payload);
        if (closed()) return;
      }
    }
  }

  void Flush() {
    while (out_offset_ < out_.size()) {
      ssize_t n = ::send(fd_.Get(), out_.data() + out_offset_, out_.size() - out_offset_,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          if (!watching_out_) {
            if (absl::Status st = server_->loop_.Modify(fd_.Get(), EPOLLIN | EPOLLOUT); !st.ok()) {
              Close(st.message());
              return;
            }
            watching_out_ = true;
          }
          return;
        }
        Close(absl::StrCat("write: ", strerror(errno)));
        return;
      }
      out_offset_ += static_cast<size_t>(n);
    }
    out_.clear();
    out_offset_ = 0;
    if (watching_out_) {
      if (absl::Status st = server_->loop_.Modify(fd_.Get(), EPOLLIN); !st.ok()) {
        Close(st.message());
        return;
      }
      watching_out_ = false;
    }
  }

  Server* server_;  // null once closed
  UniqueFd fd_;
  FrameReader reader_;
  std::string out_;  // unsent bytes start at out_offset_
  size_t out_offset_ = 0;
  bool watching_out_ = false;
};

Responder::Responder(Responder&& other) noexcept
    : connection_(std::move(other.connection_)),
      stream_id_(other.stream_id_),
      answered_(std::exchange(other.answered_, true)) {}

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    if (!answered_) Fail(absl::InternalError("request dropped"));
    connection_ = std::move(other.connection_);
    stream_id_ = other.stream_id_;
    answered_ = std::exchange(other.answered_, true);
  }
  return *this;
}

Responder::~Responder() {
  if (!answered_) Fail(absl::InternalError("request dropped"));
}

void Responder::Reply(const std::string& payload) { Send(absl::OkStatus(), payload); }

void Responder::Fail(const absl::Status& status) { Send(status, std::string()); }

void Responder::Send(const absl::Status& status, const std::string& payload) {
  if (answered_) return;
  answered_ = true;
  std::shared_ptr<Connection> connection = connection_.lock();
  connection_.reset();
  if (!connection || connection->closed()) return;
  ::ttrpc::Response response;
  if (!status.ok()) {
    response.mutable_status()->set_code(static_cast<int32_t>(status.code()));
    response.mutable_status()->set_message(std::string(status.message()));
  }
  response.set_payload(payload);
  std::string bytes = response.SerializeAsString();
  if (bytes.size() > kMaxMessageSize) {
    ::ttrpc::Response too_big;
    too_big.mutable_status()->set_code(static_cast<int32_t>(absl::StatusCode::kResourceExhausted));
    too_big.mutable_status()->set_message(absl::StrCat(
        "ttrpc: response of ", bytes.size(), " bytes exceeds the limit of ", kMaxMessageSize));
    bytes = too_big.SerializeAsString();
  }
  connection->Send(stream_id_, kMessageTypeResponse, bytes);
}

Server::~Server() {
  for (auto& [fd, connection] : connections_) {
    loop_.Remove(fd);
    connection->Shutdown();
  }
  connections_.clear();
  if (listener_.Valid()) loop_.Remove(listener_.Get());
}

void Server::Register(const std::string& service, const std::string& method, Handler handler) {
  handlers_[absl::StrCat(service, "/", method)] = std::move(handler);
}

absl::Status Server::Serve(UniqueFd listener) {
  if (listener_.Valid()) return absl::FailedPreconditionError("ttrpc: server already serving");
  if (!listener.Valid()) return absl::InvalidArgumentError("ttrpc: invalid listener");
  int flags = ::fcntl(listener.Get(), F_GETFL);
  if (flags < 0 || ::fcntl(listener.Get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return LastErrnoError("ttrpc: make listener non-blocking");
  }
  BERTH_RETURN_IF_ERROR(loop_.Add(listener.Get(), EPOLLIN, [this](uint32_t) { Accept(); }));
  listener_ = std::move(listener);
  return absl::OkStatus();
}

void Server::Accept() {
  // Bounded like reads; the listener stays readable while more are queued.
  for (int i = 0; i < 64; ++i) {
    int raw = ::accept4(listener_.Get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (raw < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        LogWarn("ttrpc: accept: {}", strerror(errno));
      }
      return;
    }
    auto connection = std::make_shared<Connection>(this, UniqueFd(raw));
    std::weak_ptr<Connection> weak = connection;
    absl::Status st = loop_.Add(raw, EPOLLIN, [weak](uint32_t events) {
      if (std::shared_ptr<Connection> c = weak.lock()) c->OnEvents(events);
    });
    if (!st.ok()) {
      LogWarn("ttrpc: watch accepted connection: {}", st.ToString());
      continue;  // the connection closes its fd
    }
    connections_[raw] = std::move(connection);
  }
}

void Server::Dispatch(const std::shared_ptr<Connection>& connection, uint32_t stream_id,
                      const std::string& frame_payload) {
  ::ttrpc::Request request;
  if (!request.ParseFromString(frame_payload)) {
    LogDebug("ttrpc: unparsable request on stream {}", stream_id);
    Close(connection->fd());
    return;
  }
  Responder responder(connection, stream_id);
  auto it = handlers_.find(absl::StrCat(request.service(), "/", request.method()));
  if (it == handlers_.end()) {
    responder.Fail(absl::UnimplementedError(absl::StrCat(
        "service \"", request.service(), "\": method \"", request.method(), "\" not implemented")));
    return;
  }
  Handler handler = it->second;  // a handler may Register() over itself
  handler(request.payload(), std::move(responder));
}

void Server::Close(int fd) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  std::shared_ptr<Connection> connection = std::move(it->second);
  connections_.erase(it);
  loop_.Remove(fd);
  connection->Shutdown();
  if (on_disconnect_) {
    std::function<void()> callback = on_disconnect_;  // may replace or destroy ours
    callback();
  }
}

}  // namespace berth::ttrpc
