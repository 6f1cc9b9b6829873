// A blocking ttrpc client: one call at a time on one connection (the shim
// publishing events to containerd; tests).
#pragma once

#include <cstdint>
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

 private:
  explicit Client(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
  uint32_t next_stream_id_ = 1;
  // Bytes read past a response (or the start of one a timed-out call left
  // behind) stay here for the next Call.
  FrameReader reader_;
};

}  // namespace berth::ttrpc
