// Container names: Docker's rule for a valid one, and a generated
// "adjective_surname" for a container created without one.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace berth::engine {

// InvalidArgument in Docker's words for a name it refuses; a leading '/' is allowed.
absl::Status ValidateContainerName(const std::string& name);
// A random name like "focused_turing" (attempt > 0 adds a number, as Docker does on retry).
std::string GenerateContainerName(int attempt);
// 64 random hex digits.
std::string GenerateContainerId();

}  // namespace berth::engine
