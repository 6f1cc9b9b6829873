// A task's cgroup statistics as containerd's Stats answer carries them: the
// runtime's `events --stats` JSON (runc's types.Stats) turned into
// io.containerd.cgroups.v1.Metrics.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "containerd/cgroups/v1/metrics.pb.h"

namespace berth::shim {

inline constexpr char kMetricsV1TypeUrl[] = "io.containerd.cgroups.v1.Metrics";

// events_json: one line of `RUNTIME events --stats ID`.
absl::StatusOr<io::containerd::cgroups::v1::Metrics> MetricsFromRuntimeStats(
    const std::string& events_json);

}  // namespace berth::shim
