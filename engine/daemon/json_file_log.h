// Docker's json-file log driver: one JSON object per line,
//   {"log":"hello\n","stream":"stdout","time":"2026-11-28T21:55:42.123456789Z"}
// ("attrs" too when the labels/env options name some), a message per line of
// output (a partial line is kept until its newline, or written as is when it
// reaches 16 KiB or the stream ends).
//
// Rotation, as moby's loggerutils.LogFile: once the file has reached
// max_size, <path>.N-1 … <path>.1 move up one, <path> becomes <path>.1 and a
// new <path> is begun; with max_files 1 the file is emptied instead. Readers
// follow with JsonLogReader.
#pragma once

#include <shared_mutex>
#include <string>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "engine/daemon/log_config.h"
#include "engine/daemon/output_hub.h"

namespace berth::engine {

// Held exclusively by a rotation (the renames and the new file's open), and
// shared by a reader while it opens a log's files: a reader never opens a
// set that a rotation has half moved.
std::shared_mutex& LogRotationLock();

class JsonFileLog {
 public:
  static absl::StatusOr<std::unique_ptr<JsonFileLog>> Open(const std::string& path,
                                                           JsonFileOptions options);
  void Write(StreamKind stream, const std::string& data);
  // Writes what is left of an unterminated line.
  void Flush(StreamKind stream);

 private:
  JsonFileLog(std::string path, JsonFileOptions options, UniqueFd fd, int64_t size);
  void WriteMessage(StreamKind stream, const std::string& message);
  void Rotate();

  std::string path_;
  JsonFileOptions options_;
  std::string attrs_json_;  // ,"attrs":{...} or empty
  UniqueFd fd_;
  int64_t size_ = 0;
  std::string partial_[3];
};

}  // namespace berth::engine
