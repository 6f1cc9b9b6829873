// Container ids, as both berth-oci and berth-runtimed accept them.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace berth {

// The longest id accepted (bytes).
inline constexpr size_t kMaxContainerIdLength = 1024;

// An id is 1 to 1024 of letters, digits, '_', '+', '-' and '.' (runc's
// characters), not starting with '.' or '-': so it is never "." or "..", a
// hidden entry of a state dir (berth-oci keeps its seccomp cache in one) or a
// command-line flag. InvalidArgument quotes the id and says what is allowed.
absl::Status ValidateContainerId(absl::string_view id);

}  // namespace berth
