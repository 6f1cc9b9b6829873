// A container's HostConfig.LogConfig, as dockerd's mergeAndVerifyLogConfig
// and the json-file driver's ValidateLogOpt: the drivers berthd has
// ("json-file", and "none", which keeps nothing), the daemon's default
// options filled in for the keys the container does not set, and the
// json-file options turned into what the writer needs.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::engine {

// berthd's default log options (docker has none; a json-file log without a
// limit fills disks: moby issue 40207). `berthd --log-opt` replaces them.
inline const std::map<std::string, std::string> kDefaultLogOpts = {{"max-size", "20m"},
                                                                   {"max-file", "5"}};

// The LogConfig to store: {"Type": ..., "Config": {...}} with the daemon's
// options merged in; InvalidArgument in dockerd's words for an unknown
// driver, an unknown option or a bad value.
absl::StatusOr<nlohmann::json> ResolveLogConfig(const nlohmann::json& requested,
                                                const std::map<std::string, std::string>& defaults);

struct JsonFileOptions {
  int64_t max_size = -1;  // bytes; -1: no limit
  int max_files = 1;      // the live file and max_files - 1 rotated ones
  // The "attrs" of every line (the labels and env options), by key.
  std::vector<std::pair<std::string, std::string>> attrs;
};

// The writer's options for a resolved LogConfig of type json-file, with the
// container's labels and env for the labels/env options.
absl::StatusOr<JsonFileOptions> JsonFileOptionsFor(const nlohmann::json& log_config,
                                                   const nlohmann::json& labels,
                                                   const nlohmann::json& env);

}  // namespace berth::engine
