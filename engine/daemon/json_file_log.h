// Docker's json-file log driver: one JSON object per line,
//   {"log":"hello\n","stream":"stdout","time":"2026-11-28T21:55:42.123456789Z"}
// a message per line of output (a partial line is kept until its newline, or
// written as is when it reaches 16 KiB or the stream ends).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "engine/daemon/output_hub.h"

namespace berth::engine {

class JsonFileLog {
 public:
  static absl::StatusOr<std::unique_ptr<JsonFileLog>> Open(const std::string& path);
  void Write(StreamKind stream, const std::string& data);
  // Writes what is left of an unterminated line.
  void Flush(StreamKind stream);

 private:
  explicit JsonFileLog(UniqueFd fd) : fd_(std::move(fd)) {}
  void WriteMessage(StreamKind stream, const std::string& message);

  UniqueFd fd_;
  std::string partial_[3];
};

}  // namespace berth::engine
