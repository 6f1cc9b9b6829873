#include "lowlevel-runtime/privileges.h"

#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/status.h"
#include "lowlevel-runtime/process_setup.h"
#include "lowlevel-runtime/security/capabilities.h"

namespace berth::oci {

absl::Status DropToProcessPrivileges(const Process& process, std::optional<SeccompFilter>& seccomp,
                                     int preserve_fds) {
  // Nothing of the runtime reaches the container: every descriptor above stdio
  // and the preserved ones is closed on exec (CVE-2024-21626).
  ::close_range(3 + static_cast<unsigned>(preserve_fds), ~0U, CLOSE_RANGE_CLOEXEC);

  if (seccomp.has_value() && !SeccompLoadsLate(process)) {
    // Without no_new_privs loading needs CAP_SYS_ADMIN, which goes below.
    BERTH_RETURN_IF_ERROR(seccomp->Load());
  }
  if (process.capabilities) BERTH_RETURN_IF_ERROR(ApplyBoundingSet(*process.capabilities));
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return LastErrnoError("prctl(PR_SET_KEEPCAPS)");
  BERTH_RETURN_IF_ERROR(SwitchUser(process.user));
  if (process.user.umask) ::umask(static_cast<mode_t>(*process.user.umask));
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return LastErrnoError("prctl(PR_SET_KEEPCAPS)");
  // Without process.capabilities the capabilities are left as they are, as runc does.
  if (process.capabilities) BERTH_RETURN_IF_ERROR(ApplyCapabilities(*process.capabilities));
  if (process.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return LastErrnoError("prctl(PR_SET_NO_NEW_PRIVS)");
  }
  return absl::OkStatus();
}

}  // namespace berth::oci
