// Docker's detach keys on an attached stdin ("ctrl-p,ctrl-q" by default, the
// attach request's detachKeys otherwise): the daemon watches the stream for
// them, holding back a partial match, and on a match ends the attach without
// closing the container's stdin.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth::engine {

// "ctrl-p,ctrl-q" -> "\x10\x11"; "a,ctrl-@" -> "a\0". InvalidArgument in
// docker's words for anything else.
absl::StatusOr<std::string> ParseDetachKeys(absl::string_view spec);

class DetachDetector {
 public:
  // Empty keys: nothing is watched for, every byte goes through.
  explicit DetachDetector(std::string keys) : keys_(std::move(keys)) {}
  // The bytes of data to forward; *detached when the keys were typed (what
  // came after them is dropped).
  std::string Feed(absl::string_view data, bool* detached);

 private:
  std::string keys_;
  size_t matched_ = 0;
};

}  // namespace berth::engine
