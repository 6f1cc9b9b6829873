// The containerd runtime v2 shim command line. containerd passes Go-style flags
// (single dash, `-flag value` or `-flag=value`), which CLI11 does not parse.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::shim {

struct ShimFlags {
  std::string namespace_name;
  std::string address;         // containerd's ttrpc/grpc address
  std::string publish_binary;  // the binary that publishes events
  std::string id;
  std::string bundle;
  bool debug = false;
  bool version = false;  // -v
  bool info = false;     // -info
  std::string action;    // "", "start" or "delete"
};

absl::StatusOr<ShimFlags> ParseShimFlags(const std::vector<std::string>& args);

}  // namespace berth::shim
