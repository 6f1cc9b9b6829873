// docker's jsonmessage.DisplayJSONMessagesStream: renders the progress stream
// of pull (and later push/build) as docker does. Without a terminal, progress
// updates with a byte count are dropped and every other message is a line
// ("c5aeb924420c: Pull complete"); on a terminal, each layer keeps its line,
// redrawn in place with a progress bar.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace berth::cli {

class JsonMessageRenderer {
 public:
  using Sink = std::function<void(std::string_view)>;
  // width: the terminal's columns (docker assumes 200 when unknown).
  JsonMessageRenderer(Sink sink, bool is_terminal, int width = 200)
      : sink_(std::move(sink)), terminal_(is_terminal), width_(width) {}

  // Feeds the response body as it arrives ("{...}\r\n{...}\r\n").
  // An {"error": ...} message stops the stream with that error.
  absl::Status Feed(std::string_view data);
  // Renders what is left (a last message without a newline).
  absl::Status Finish();

  // Called with the "aux" messages (not displayed).
  std::function<void(const nlohmann::ordered_json&)> on_aux;

 private:
  absl::Status Message(const nlohmann::ordered_json& jm);
  std::string ProgressString(const nlohmann::ordered_json& progress) const;

  Sink sink_;
  bool terminal_;
  int width_;
  std::string buf_;
  std::map<std::string, unsigned> ids_;
};

}  // namespace berth::cli
