// Reading a container's json-file log back (GET /containers/{id}/logs): the
// messages after an offset, parsed, each with the offset just past it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/daemon/output_hub.h"

namespace berth::engine {

struct LogMessage {
  StreamKind stream = StreamKind::kStdout;
  std::string text;
  absl::Time time;
};

// The complete lines of the log at path from offset on; *offset moves past
// them (a partly written last line is left for the next call). A missing file
// reads as empty.
absl::StatusOr<std::vector<LogMessage>> ReadLogMessages(const std::string& path, int64_t* offset);

// Docker's since/until: "1700000000", "1700000000.5", "1700000000.000000001".
absl::StatusOr<absl::Time> ParseUnixTimestamp(const std::string& text);

}  // namespace berth::engine
