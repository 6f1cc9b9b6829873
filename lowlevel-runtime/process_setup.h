// Attributes of the container process set just before exec: rlimits, OOM score,
// user and groups, umask, and the executable's path lookup.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/oci/runtime_spec.h"

namespace berth::oci {

// RLIMIT_* resource number by name; unknown names are an error naming the field.
absl::StatusOr<int> RlimitResource(const std::string& name);
absl::Status ValidateRlimits(const std::vector<Rlimit>& rlimits);
absl::Status ApplyRlimits(const std::vector<Rlimit>& rlimits);

absl::Status SetOomScoreAdj(int value);

// Unblocks every signal and restores every default disposition: the container's
// process must not inherit the runtime's (or its caller's) blocked or ignored signals.
void ResetSignals();

// setgroups (skipped where a rootless user namespace denies it, unless
// additionalGids are asked for), setresgid, setresuid.
absl::Status SwitchUser(const User& user);

// Looks up args[0] on the PATH from env (or the default PATH) as execvp would,
// in the current root. Returns the path to exec or NotFound as runc words it:
// exec: "foo": executable file not found in $PATH.
absl::StatusOr<std::string> FindExecutable(const std::string& name,
                                           const std::vector<std::string>& env);

}  // namespace berth::oci
