// `kill [--all] ID [SIGNAL]`
#include <signal.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "lowlevel-runtime/cgroups/cgroup.h"
#include "lowlevel-runtime/commands.h"
#include "lowlevel-runtime/container_state.h"

namespace berth::oci {

absl::Status Kill(const GlobalOptions& global, const std::string& id, const std::string& signal,
                  bool all) {
  BERTH_ASSIGN_OR_RETURN(int signo, ParseSignal(signal));
  BERTH_ASSIGN_OR_RETURN(ContainerState state, LoadState(global.root, id));
  Status status = CurrentStatus(global.root, state);
  if (all) {
    BERTH_ASSIGN_OR_RETURN(auto cgroup, OpenContainerCgroup(state));
    auto pids = cgroup->Pids();
    if (pids.ok()) {
      bool frozen = status == Status::kPaused;
      for (pid_t pid : *pids) ::kill(pid, signo);
      // A frozen task cannot act on the signal until thawed (SIGKILL included on v1).
      if (frozen && (signo == SIGKILL || signo == SIGTERM)) (void)cgroup->Freeze(false);
      return absl::OkStatus();
    }
    if (status == Status::kStopped) return absl::FailedPreconditionError("container not running");
    return pids.status();
  }
  if (status == Status::kStopped) return absl::FailedPreconditionError("container not running");
  if (::kill(state.pid, signo) != 0) {
    return LastErrnoError(absl::StrCat("kill container init ", state.pid));
  }
  return absl::OkStatus();
}

}  // namespace berth::oci
