#include "common/ttrpc/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status.h"
#include "ttrpc/ttrpc.pb.h"

namespace berth::ttrpc {
namespace {

// What a call may be cancelled by, and how often to ask.
struct CancelCheck {
  const std::function<bool()>* cancelled = nullptr;
  absl::Duration every = absl::Milliseconds(100);
  bool Cancelled() const { return cancelled != nullptr && *cancelled && (*cancelled)(); }
};

// Waits until fd is ready for `events` or the deadline passes (DeadlineExceeded);
// with a cancel check, it is asked every `cancel.every` (Cancelled).
absl::Status WaitReady(int fd, short events, absl::Time deadline, const CancelCheck& cancel,
                       absl::string_view what) {
  for (;;) {
    if (cancel.Cancelled()) return absl::CancelledError(absl::StrCat(what, ": cancelled"));
    absl::Duration slice = absl::InfiniteDuration();
    if (deadline != absl::InfiniteFuture()) {
      slice = deadline - absl::Now();
      if (slice <= absl::ZeroDuration()) {
        return absl::DeadlineExceededError(absl::StrCat(what, ": timed out"));
      }
    }
    if (cancel.cancelled != nullptr && *cancel.cancelled) slice = std::min(slice, cancel.every);
    int timeout_ms = -1;
    if (slice != absl::InfiniteDuration()) {
      int64_t ms = absl::Ceil(slice, absl::Milliseconds(1)) / absl::Milliseconds(1);
      timeout_ms = ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
    }
    pollfd pfd{fd, events, 0};
    int n = ::poll(&pfd, 1, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      return LastErrnoError(absl::StrCat(what, ": poll"));
    }
    if (n > 0) return absl::OkStatus();  // ready, or HUP/ERR for the next syscall to report
  }
}

}  // namespace

absl::StatusOr<Client> Client::Connect(absl::string_view socket_path) {
  absl::string_view path = socket_path;
  absl::ConsumePrefix(&path, "unix://");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return absl::InvalidArgumentError(
        absl::StrCat("ttrpc: invalid unix socket path \"", socket_path, "\""));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  if (path[0] == '@') {  // abstract socket, as containerd names some shim sockets
    addr.sun_path[0] = '\0';
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.Valid()) return LastErrnoError("ttrpc: socket");
  if (::connect(fd.Get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
    return LastErrnoError(absl::StrCat("ttrpc: connect to ", path));
  }
  return Client(std::move(fd));
}

absl::StatusOr<std::string> Client::Call(absl::string_view service, absl::string_view method,
                                         const std::string& payload, absl::Duration timeout) {
  return Call(service, method, payload, timeout, std::function<bool()>());
}

absl::StatusOr<std::string> Client::Call(absl::string_view service, absl::string_view method,
                                         const std::string& payload, absl::Duration timeout,
                                         const std::function<bool()>& cancelled,
                                         absl::Duration check_every) {
  const CancelCheck cancel{
      &cancelled, check_every > absl::ZeroDuration() ? check_every : absl::Milliseconds(100)};
  const std::string name = absl::StrCat("ttrpc call ", service, "/", method);
  if (!fd_.Valid()) {
    return absl::FailedPreconditionError(absl::StrCat(name, ": connection is no longer usable"));
  }
  absl::Time deadline =
      timeout == absl::InfiniteDuration() ? absl::InfiniteFuture() : absl::Now() + timeout;
  if (cancel.Cancelled()) {
    fd_.Reset();
    return absl::CancelledError(absl::StrCat(name, ": cancelled"));
  }

  ::ttrpc::Request request;
  request.set_service(std::string(service));
  request.set_method(std::string(method));
  request.set_payload(payload);
  if (timeout != absl::InfiniteDuration()) {
    request.set_timeout_nano(absl::ToInt64Nanoseconds(timeout));
  }
  uint32_t stream_id = next_stream_id_;
  next_stream_id_ += 2;
  auto frame = EncodeFrame(stream_id, kMessageTypeRequest, request.SerializeAsString());
  if (!frame.ok()) return Annotate(frame.status(), name);

  // A frame only partly written leaves the stream unusable: drop the connection then.
  absl::string_view rest = *frame;
  while (!rest.empty()) {
    ssize_t n = ::send(fd_.Get(), rest.data(), rest.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (absl::Status st = WaitReady(fd_.Get(), POLLOUT, deadline, cancel, name); !st.ok()) {
          if (rest.size() != frame->size() || st.code() == absl::StatusCode::kCancelled) {
            fd_.Reset();
          }
          return st;
        }
        continue;
      }
      absl::Status st = LastErrnoError(absl::StrCat(name, ": write"));
      fd_.Reset();
      return st;
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }

  for (;;) {
    auto next = reader_.Next();
    if (!next.ok()) {
      fd_.Reset();
      return Annotate(next.status(), name);
    }
    if (next->has_value()) {
      Frame& f = **next;
      // Responses to calls that timed out earlier, or anything not a response: skip.
      if (f.header.stream_id != stream_id || f.header.type != kMessageTypeResponse) continue;
      ::ttrpc::Response response;
      if (!response.ParseFromString(f.payload)) {
        return absl::DataLossError(absl::StrCat(name, ": unparsable response"));
      }
      if (response.has_status() && response.status().code() != 0) {
        int code = response.status().code();
        absl::StatusCode status_code = code > 0 && code <= 16 ? static_cast<absl::StatusCode>(code)
                                                              : absl::StatusCode::kUnknown;
        return absl::Status(status_code, response.status().message());
      }
      return std::move(*response.mutable_payload());
    }
    if (absl::Status st = WaitReady(fd_.Get(), POLLIN, deadline, cancel, name); !st.ok()) {
      if (st.code() == absl::StatusCode::kCancelled) fd_.Reset();
      return st;
    }
    char buf[64 * 1024];
    ssize_t n = ::read(fd_.Get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      absl::Status st = LastErrnoError(absl::StrCat(name, ": read"));
      fd_.Reset();
      return st;
    }
    if (n == 0) {
      fd_.Reset();
      return absl::UnavailableError(absl::StrCat(name, ": connection closed by the server"));
    }
    reader_.Append(buf, static_cast<size_t>(n));
  }
}

}  // namespace berth::ttrpc
