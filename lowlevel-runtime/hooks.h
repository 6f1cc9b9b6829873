// OCI hooks: each runs with the container state JSON on stdin, its own args and
// env, and is killed when its timeout passes.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/json.h"
#include "common/oci/runtime_spec.h"

namespace berth::oci {

// Runs hooks in order; the first failure stops the rest and is returned, naming
// the phase ("createRuntime"), the hook and its output.
absl::Status RunHooks(const std::vector<Hook>& hooks, const Json& state, absl::string_view phase);

}  // namespace berth::oci
