// Reading a container's json-file log back (GET /containers/{id}/logs): the
// rotated files oldest first, then the live one, and with follow what is
// appended after, through rotations (JsonFileLog).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/unique_fd.h"
#include "engine/daemon/output_hub.h"

namespace berth::engine {

struct LogMessage {
  StreamKind stream = StreamKind::kStdout;
  std::string text;
  absl::Time time;
  std::vector<std::pair<std::string, std::string>> attrs;  // sorted by key
};

class JsonLogReader {
 public:
  explicit JsonLogReader(std::string path) : path_(std::move(path)) {}
  // The first call: every complete message the log holds, the rotated files
  // (<path>.N … <path>.1) first. Later calls: the messages written since.
  // A partly written last line is left for the next call; a missing file
  // reads as empty.
  absl::StatusOr<std::vector<LogMessage>> Next();
  // Instead of the first Next: the last n messages only (`logs --tail n`),
  // found by reading the files backwards from their ends; later Next calls
  // go on from there.
  absl::StatusOr<std::vector<LogMessage>> Tail(size_t n);

 private:
  // Appends the complete lines of fd from *offset on; *offset moves past them.
  absl::Status ReadFrom(int fd, int64_t* offset, std::vector<LogMessage>* out);
  // The live file and its inode; no fd while it does not exist.
  absl::StatusOr<std::pair<UniqueFd, ino_t>> OpenLive() const;
  // The rotated files newer than the one with inode `after` (all of them for
  // 0, or when it has rotated away), oldest first. LogRotationLock held.
  std::vector<UniqueFd> OpenRotated(ino_t after) const;
  // The first read's files: the live one kept (fd_, ino_), the rotated ones
  // returned, oldest first.
  absl::StatusOr<std::vector<UniqueFd>> Begin();

  std::string path_;
  bool started_ = false;
  UniqueFd fd_;  // the live file as it was when opened
  ino_t ino_ = 0;
  int64_t offset_ = 0;
};

// Docker's since/until: "1700000000", "1700000000.5", "1700000000.000000001".
absl::StatusOr<absl::Time> ParseUnixTimestamp(const std::string& text);

}  // namespace berth::engine
