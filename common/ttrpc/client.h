// A blocking ttrpc client: one call at a time on one connection (the shim
// publishing events to containerd; tests).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/ttrpc/frame.h"
#include "common/unique_fd.h"

namespace berth::ttrpc {

class Client {
 public:
  // socket_path: a unix socket path; a leading "unix://" is accepted.
  static absl::StatusOr<Client> Connect(absl::string_view socket_path);

  // Sends Request{service, method, payload, timeout_nano} and waits (at most
  // `timeout`) for the Response with the same stream id. A non-OK
  // Response.status becomes the returned status (its code and message).
  absl::StatusOr<std::string> Call(absl::string_view service, absl::string_view method,
                                   const std::string& payload,
                                   absl::Duration timeout = absl::Seconds(10));

  // Call that also gives up, with Cancelled, once `cancelled` returns true:
  // it is asked before the request goes out and then every `check_every`
  // while the call waits (a caller's own cancellation, e.g. a gRPC
  // ServerContext::IsCancelled). A cancelled call closes the connection, so
  // that the server's late answer is read by no one and the server sees the
  // caller go; later calls on this client fail with FailedPrecondition.
  absl::StatusOr<std::string> Call(absl::string_view service, absl::string_view method,
                                   const std::string& payload, absl::Duration timeout,
                                   const std::function<bool()>& cancelled,
                                   absl::Duration check_every = absl::Milliseconds(100));

 private:
  explicit Client(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
  uint32_t next_stream_id_ = 1;
  // Bytes read past a response (or the start of one a timed-out call left
  // behind) stay here for the next Call.
  FrameReader reader_;
};

}  // namespace berth::ttrpc
