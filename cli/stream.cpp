#include "cli/stream.h"

#include <unistd.h>

#include <cerrno>

#include "common/status.h"

namespace berth::cli {

absl::Status StreamDemuxer::Feed(std::string_view data) {
  buf_.append(data);
  size_t off = 0;
  while (buf_.size() - off >= 8) {
    auto type = static_cast<unsigned char>(buf_[off]);
    uint32_t size = 0;
    for (size_t i = 4; i < 8; ++i) {
      size = (size << 8) | static_cast<unsigned char>(buf_[off + i]);
    }
    if (buf_.size() - off - 8 < size) break;
    std::string_view payload(buf_.data() + off + 8, size);
    if (type == 3) {
      std::string msg(payload);
      buf_.clear();
      return absl::InternalError(msg);
    }
    if (type > 3) {
      std::string bad = "Unrecognized input header: " + std::to_string(type);
      buf_.clear();
      return absl::InternalError(bad);
    }
    if (size > 0) {
      absl::Status st = sink_(type == 2 ? 2 : 1, payload);
      if (!st.ok()) {
        buf_.clear();
        return st;
      }
    }
    off += 8 + size;
  }
  buf_.erase(0, off);
  return absl::OkStatus();
}

}  // namespace berth::cli
