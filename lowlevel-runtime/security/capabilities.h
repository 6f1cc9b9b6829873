// Process capabilities from the spec's process.capabilities, through libcap.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/oci/runtime_spec.h"

namespace berth::oci {

// Capability numbers by name ("CAP_SYS_ADMIN"); an unknown name is an error
// naming it. Names this kernel does not know (newer than it) are skipped with a
// warning, as runc does. The CAP_ prefix is required; case does not matter.
absl::StatusOr<std::vector<int>> CapabilityNumbers(const std::vector<std::string>& names,
                                                   const std::string& field);

// Same, with the highest capability number the kernel knows given explicitly
// (for tests; the one above asks the kernel).
absl::StatusOr<std::vector<int>> CapabilityNumbers(const std::vector<std::string>& names,
                                                   const std::string& field, int last_cap);

// The highest capability number the running kernel knows (cap_last_cap),
// probed once by libcap.
int LastCapability();

// "CAP_SYS_ADMIN" for 21; the number itself for one libcap has no name for.
std::string CapabilityName(int cap);

// Validates every set (so a bad name fails `create` before anything is built).
absl::Status ValidateCapabilities(const Capabilities& caps);

// Drops every capability not in `caps.bounding` from the bounding set. Needs
// CAP_SETPCAP: call before changing uid.
absl::Status ApplyBoundingSet(const Capabilities& caps);

// Sets effective, permitted and inheritable, then raises ambient. Call after
// setuid/setgid (with PR_SET_KEEPCAPS set before them).
absl::Status ApplyCapabilities(const Capabilities& caps);

}  // namespace berth::oci
