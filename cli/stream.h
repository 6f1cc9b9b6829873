// Docker's attach/logs stream framing (stdcopy): without a tty every frame is
// an 8-byte header [stream type, 0, 0, 0, big-endian uint32 size] and the
// payload; stream 0 is stdin (written to stdout), 1 stdout, 2 stderr, 3 a
// system error ending the stream.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "common/fd_util.h"

namespace berth::cli {

class StreamDemuxer {
 public:
  using Sink = std::function<absl::Status(int stream, std::string_view data)>;
  explicit StreamDemuxer(Sink sink) : sink_(std::move(sink)) {}

  // Feeds bytes as they arrive; frames may be split anywhere across calls.
  // A system-error frame (3) returns its payload as an error.
  absl::Status Feed(std::string_view data);
  // True when no partial frame is buffered.
  bool AtFrameBoundary() const { return buf_.empty(); }

 private:
  Sink sink_;
  std::string buf_;
};

// common/fd_util's WriteAll (short writes and EINTR retried) for the CLI's
// std::string_view (Debian's Abseil has its own string_view).
inline absl::Status WriteAll(int fd, std::string_view data) {
  return berth::WriteAll(fd, absl::string_view(data.data(), data.size()));
}

}  // namespace berth::cli
