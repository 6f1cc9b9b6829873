// Docker-format seccomp profiles (moby profiles/seccomp) to the OCI
// linux.seccomp object: the archMap narrowed to the host, each syscall rule kept
// only when its includes match and its excludes do not.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/json.h"
#include "engine/spec/host_info.h"

namespace berth::engine::spec {

// Docker's default profile (moby's profiles/seccomp/default.json, embedded).
absl::string_view DefaultSeccompProfileText();

// Converts a Docker-format profile for a container whose bounding set is
// `bounding_caps`, on `host` (arch, kernel). nullopt when the profile has
// neither a defaultAction nor syscalls (Docker's "seccomp disabled").
absl::StatusOr<std::optional<Json>> ConvertSeccompProfile(
    const Json& profile, const std::vector<std::string>& bounding_caps, const HostInfo& host);

// The same from the profile's text (what `--security-opt seccomp=FILE` sends).
absl::StatusOr<std::optional<Json>> LoadSeccompProfile(
    absl::string_view text, const std::vector<std::string>& bounding_caps, const HostInfo& host);

// Whether kernel release `running` ("6.1.0-18-amd64") is at least `wanted`
// ("4.8"), comparing kernel.major.minor as moby's kernel package does.
absl::StatusOr<bool> KernelAtLeast(absl::string_view running, absl::string_view wanted);

}  // namespace berth::engine::spec
