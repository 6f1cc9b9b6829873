// Docker's capability sets: the 14 defaults, CapAdd/CapDrop (moby oci/caps).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/spec/host_info.h"

namespace berth::engine::spec {

// Docker's default capabilities, in Docker's order.
std::vector<std::string> DefaultCapabilities();

// "CAP_CHOWN" ... for every capability number 0..last_cap that libcap names.
std::vector<std::string> AllCapabilities(int last_cap);

// The number of "CAP_SYS_ADMIN" (21); -1 when unknown.
int CapabilityNumber(const std::string& name);

// What Docker calls GetAllCapabilities(): the known capabilities this host can
// grant (host.available_caps, or all known when that is empty).
std::vector<std::string> GrantableCapabilities(const HostInfo& host);

// CapAdd/CapDrop entries to "CAP_X" names: case-insensitive, the CAP_ prefix
// optional, "ALL" kept as is. An unknown name fails with
// `unknown capability: "CAP_FOO"`; a known one this host cannot grant is
// dropped (dockerd logs a warning and goes on).
absl::StatusOr<std::vector<std::string>> NormalizeCapabilities(const std::vector<std::string>& caps,
                                                               const HostInfo& host);

// moby's TweakCapabilities: privileged gets every grantable capability; else
// the defaults minus CapDrop plus CapAdd, with "ALL" in CapAdd (everything but
// CapDrop) or in CapDrop (only CapAdd).
absl::StatusOr<std::vector<std::string>> ContainerCapabilities(const std::vector<std::string>& add,
                                                               const std::vector<std::string>& drop,
                                                               bool privileged,
                                                               const HostInfo& host);

}  // namespace berth::engine::spec
