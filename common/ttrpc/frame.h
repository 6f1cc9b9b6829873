// ttrpc framing (github.com/containerd/ttrpc, channel.go), from the protocol
// description: every message is a 10-byte header, then its payload.
//   uint32 length (big endian) | uint32 stream id (big endian) | uint8 type | uint8 flags
// type 1 is a Request, 2 a Response (ttrpc.proto). Clients use odd stream ids.
// Payloads over kMaxMessageSize are refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth::ttrpc {

inline constexpr size_t kHeaderSize = 10;
inline constexpr uint32_t kMaxMessageSize = 4 << 20;
inline constexpr uint8_t kMessageTypeRequest = 1;
inline constexpr uint8_t kMessageTypeResponse = 2;

struct FrameHeader {
  uint32_t length = 0;
  uint32_t stream_id = 0;
  uint8_t type = 0;
  uint8_t flags = 0;
};

struct Frame {
  FrameHeader header;
  std::string payload;
};

std::string EncodeHeader(const FrameHeader& header);
FrameHeader DecodeHeader(const char (&bytes)[kHeaderSize]);
// Header plus payload; InvalidArgument when the payload is too big.
absl::StatusOr<std::string> EncodeFrame(uint32_t stream_id, uint8_t type,
                                        absl::string_view payload);

// Incremental parser for a non-blocking reader: Append() what read() returned,
// then take frames with Next() until it returns nullopt. A header announcing
// more than kMaxMessageSize makes Next() fail (ResourceExhausted); the
// connection is then unusable.
class FrameReader {
 public:
  void Append(const char* data, size_t size) { buffer_.append(data, size); }
  absl::StatusOr<std::optional<Frame>> Next();
  // Bytes of an incomplete frame still buffered.
  size_t Pending() const { return buffer_.size() - offset_; }

 private:
  std::string buffer_;
  size_t offset_ = 0;
};

// Blocking whole-frame I/O on a connected socket (the client, tests). ReadFrame
// fails with Unavailable on EOF before a header, DataLoss on EOF inside a frame.
absl::Status WriteFrame(int fd, uint32_t stream_id, uint8_t type, absl::string_view payload);
absl::StatusOr<Frame> ReadFrame(int fd);

}  // namespace berth::ttrpc
