// Protection against overwriting the runtime binary from inside a container
// (CVE-2019-5736): before any command that runs code in a container, berth-oci
// re-executes itself from a sealed, read-only memfd copy, so /proc/<pid>/exe
// of any process it becomes points at the copy, which cannot be written.
#pragma once

#include "absl/status/status.h"

namespace berth::oci {

// Returns OK when already running from a sealed copy; otherwise re-executes
// itself from one (and does not return) or returns the error.
absl::Status EnsureSealedExecutable(char** argv);

}  // namespace berth::oci
