#include "common/ttrpc/frame.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/fd_util.h"
#include "common/status.h"

namespace berth::ttrpc {
namespace {

void PutBigEndian32(char* out, uint32_t value) {
  out[0] = static_cast<char>((value >> 24) & 0xff);
  out[1] = static_cast<char>((value >> 16) & 0xff);
  out[2] = static_cast<char>((value >> 8) & 0xff);
  out[3] = static_cast<char>(value & 0xff);
}

uint32_t GetBigEndian32(const char* in) {
  const auto* b = reinterpret_cast<const unsigned char*>(in);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

absl::Status TooBig(uint32_t length) {
  return absl::ResourceExhaustedError(
      absl::StrCat("ttrpc: frame of ", length, " bytes exceeds the limit of ", kMaxMessageSize));
}

// Reads exactly size bytes. Returns the count read before EOF (< size on EOF).
absl::StatusOr<size_t> ReadFull(int fd, char* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, data + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return LastErrnoError("ttrpc: read");
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

}  // namespace

std::string EncodeHeader(const FrameHeader& header) {
  std::string out(kHeaderSize, '\0');
  PutBigEndian32(out.data(), header.length);
  PutBigEndian32(out.data() + 4, header.stream_id);
  out[8] = static_cast<char>(header.type);
  out[9] = static_cast<char>(header.flags);
  return out;
}

FrameHeader DecodeHeader(const char (&bytes)[kHeaderSize]) {
  FrameHeader header;
  header.length = GetBigEndian32(bytes);
  header.stream_id = GetBigEndian32(bytes + 4);
  header.type = static_cast<uint8_t>(bytes[8]);
  header.flags = static_cast<uint8_t>(bytes[9]);
  return header;
}

absl::StatusOr<std::string> EncodeFrame(uint32_t stream_id, uint8_t type,
                                        absl::string_view payload) {
  if (payload.size() > kMaxMessageSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ttrpc: message of ", payload.size(), " bytes exceeds the limit of ", kMaxMessageSize));
  }
  FrameHeader header;
  header.length = static_cast<uint32_t>(payload.size());
  header.stream_id = stream_id;
  header.type = type;
  std::string out = EncodeHeader(header);
  out.append(payload.data(), payload.size());
  return out;
}

absl::StatusOr<std::optional<Frame>> FrameReader::Next() {
  if (Pending() >= kHeaderSize) {
    char bytes[kHeaderSize];
    std::memcpy(bytes, buffer_.data() + offset_, kHeaderSize);
    FrameHeader header = DecodeHeader(bytes);
    if (header.length > kMaxMessageSize) return TooBig(header.length);
    if (Pending() - kHeaderSize >= header.length) {
      Frame frame;
      frame.header = header;
      frame.payload.assign(buffer_, offset_ + kHeaderSize, header.length);
      offset_ += kHeaderSize + header.length;
      if (offset_ == buffer_.size()) {
        buffer_.clear();
        offset_ = 0;
      }
      return std::optional<Frame>(std::move(frame));
    }
  }
  // Nothing complete: drop the consumed prefix before more is appended.
  if (offset_ > 0) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return std::optional<Frame>();
}

absl::Status WriteFrame(int fd, uint32_t stream_id, uint8_t type, absl::string_view payload) {
  BERTH_ASSIGN_OR_RETURN(std::string frame, EncodeFrame(stream_id, type, payload));
  absl::string_view rest = frame;
  while (!rest.empty()) {
    // MSG_NOSIGNAL: a peer that went away is an EPIPE error, not a SIGPIPE.
    ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOTSOCK) return WriteAll(fd, rest);
      return LastErrnoError("ttrpc: write frame");
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<Frame> ReadFrame(int fd) {
  char bytes[kHeaderSize];
  BERTH_ASSIGN_OR_RETURN(size_t got, ReadFull(fd, bytes, kHeaderSize));
  if (got == 0) return absl::UnavailableError("ttrpc: connection closed");
  if (got < kHeaderSize)
    return absl::DataLossError("ttrpc: connection closed inside a frame header");
  Frame frame;
  frame.header = DecodeHeader(bytes);
  if (frame.header.length > kMaxMessageSize) return TooBig(frame.header.length);
  frame.payload.resize(frame.header.length);
  BERTH_ASSIGN_OR_RETURN(got, ReadFull(fd, frame.payload.data(), frame.payload.size()));
  if (got < frame.header.length) {
    return absl::DataLossError(absl::StrCat("ttrpc: connection closed after ", got, " of ",
                                            frame.header.length, " payload bytes"));
  }
  return frame;
}

}  // namespace berth::ttrpc
