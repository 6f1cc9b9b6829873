// The image configuration (OCI image spec config.json, Docker's container
// image v1): what a container made from the image runs by default, and the
// diff_ids of its uncompressed layers.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "highlevel-runtime/image/manifest.h"

namespace berth::runtimed {

struct ImageConfig {
  std::string architecture;  // required
  std::string os;            // required
  std::string variant;       // optional
  std::string created;       // RFC 3339 as written, may be empty
  std::string author;

  // "config" (optional as a whole; null members read as empty).
  std::vector<std::string> env;               // Env: "KEY=value"
  std::vector<std::string> cmd;               // Cmd
  std::vector<std::string> entrypoint;        // Entrypoint
  std::string working_dir;                    // WorkingDir
  std::string user;                           // User
  std::vector<std::string> exposed_ports;     // ExposedPorts keys, sorted: "80/tcp", "53/udp"
  std::vector<std::string> volumes;           // Volumes keys, sorted
  std::map<std::string, std::string> labels;  // Labels
  std::string stop_signal;                    // StopSignal

  // "rootfs": type is "layers"; diff_ids are digests of the uncompressed
  // layers, base first (absent reads as none: a FROM scratch image without layers).
  std::string rootfs_type;
  std::vector<std::string> diff_ids;

  size_t history_count = 0;  // entries in "history"

  Platform platform() const { return Platform{os, architecture, variant}; }
};

// Parses the config blob. InvalidArgument names the field: "image config:
// rootfs: missing", "image config: rootfs.diff_ids[1]: invalid digest …",
// "image config: config.Env: unexpected string value …".
absl::StatusOr<ImageConfig> ParseImageConfig(absl::string_view text);

// A pulled image is consistent when the config lists one diff_id per manifest
// layer; InvalidArgument with both counts otherwise.
absl::Status CheckLayersMatch(const Manifest& manifest, const ImageConfig& config);

}  // namespace berth::runtimed
