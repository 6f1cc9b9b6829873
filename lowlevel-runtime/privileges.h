// The last steps before exec, shared by the container's init and `exec`:
// close the runtime's descriptors, load seccomp, drop capabilities, switch user.
#pragma once

#include <optional>

#include "absl/status/status.h"
#include "common/oci/runtime_spec.h"
#include "lowlevel-runtime/security/seccomp.h"

namespace berth::oci {

// Marks every descriptor from 3 + preserve_fds up close-on-exec; loads the
// seccomp filter now unless the process has no_new_privs (then the caller
// loads it right before exec, see SeccompLoadsLate); applies the bounding set,
// user, groups, umask, capabilities and no_new_privs, in runc's order.
absl::Status DropToProcessPrivileges(const Process& process, std::optional<SeccompFilter>& seccomp,
                                     int preserve_fds);

// With no_new_privs, seccomp is loaded as the very last step, so that the
// runtime's own remaining syscalls are not subject to the container's filter.
inline bool SeccompLoadsLate(const Process& process) { return process.no_new_privileges; }

}  // namespace berth::oci
