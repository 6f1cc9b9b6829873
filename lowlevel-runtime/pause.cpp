// `pause` and `resume`: the cgroup freezer (v1 freezer.state, v2 cgroup.freeze).
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "lowlevel-runtime/cgroups/cgroup.h"
#include "lowlevel-runtime/commands.h"
#include "lowlevel-runtime/container_state.h"

namespace berth::oci {

absl::Status Pause(const GlobalOptions& global, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(ContainerState state, LoadState(global.root, id));
  Status status = CurrentStatus(global.root, state);
  if (status != Status::kRunning && status != Status::kCreated) {
    return absl::FailedPreconditionError(
        absl::StrCat("container not running (", StatusName(status), ")"));
  }
  BERTH_ASSIGN_OR_RETURN(auto cgroup, OpenContainerCgroup(state));
  return cgroup->Freeze(true);
}

absl::Status Resume(const GlobalOptions& global, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(ContainerState state, LoadState(global.root, id));
  if (CurrentStatus(global.root, state) != Status::kPaused) {
    return absl::FailedPreconditionError("container not paused");
  }
  BERTH_ASSIGN_OR_RETURN(auto cgroup, OpenContainerCgroup(state));
  return cgroup->Freeze(false);
}

}  // namespace berth::oci
