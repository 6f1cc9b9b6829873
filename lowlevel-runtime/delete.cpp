// `delete [--force] ID`: remove a stopped (or, forced, any) container.
#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/oci/runtime_spec.h"
#include "common/status.h"
#include "lowlevel-runtime/cgroups/cgroup.h"
#include "lowlevel-runtime/commands.h"
#include "lowlevel-runtime/container_state.h"
#include "lowlevel-runtime/hooks.h"

namespace berth::oci {
namespace {

// Kills everything in the cgroup and waits for it to empty.
absl::Status KillAll(Cgroup& cgroup, const ContainerState& state) {
  if (InitAlive(state)) ::kill(state.pid, SIGKILL);
  for (int attempt = 0; attempt < 500; ++attempt) {
    auto pids = cgroup.Pids();
    if (!pids.ok() || pids->empty()) return absl::OkStatus();
    if (attempt == 0) (void)cgroup.Freeze(false);
    for (pid_t pid : *pids) ::kill(pid, SIGKILL);
    ::usleep(attempt < 10 ? 1000 : 10000);
  }
  return absl::DeadlineExceededError("processes of the container survived SIGKILL");
}

}  // namespace

absl::Status Delete(const GlobalOptions& global, const std::string& id, bool force) {
  auto loaded = LoadState(global.root, id);
  if (!loaded.ok()) {
    // runc: `delete --force` of a container that does not exist is not an error.
    if (force && loaded.status().code() == absl::StatusCode::kNotFound) return absl::OkStatus();
    return loaded.status();
  }
  ContainerState& state = *loaded;
  Status status = CurrentStatus(global.root, state);
  if (status != Status::kStopped && status != Status::kCreated && !force) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot delete container ", id, " that is not stopped: ", StatusName(status)));
  }
  BERTH_ASSIGN_OR_RETURN(auto cgroup, OpenContainerCgroup(state));
  if (status != Status::kStopped) BERTH_RETURN_IF_ERROR(KillAll(*cgroup, state));

  absl::Status removed = cgroup->Destroy();
  for (int attempt = 0; !removed.ok() && attempt < 100; ++attempt) {
    // Exited tasks leave the cgroup asynchronously.
    ::usleep(attempt < 10 ? 1000 : 10000);
    removed = cgroup->Destroy();
  }
  if (!removed.ok()) return Annotate(removed, "remove cgroup");
  if (state.cgroups_path.empty()) {
    // The default path is /berth-oci/<id>: the parent is ours too; it goes with
    // the last container in it (rmdir fails harmlessly while others remain).
    for (const std::string& dir : cgroup->Paths()) {
      ::rmdir(dir.substr(0, dir.rfind('/')).c_str());
    }
  }

  const Json* hooks = state.config.contains("hooks") ? &state.config["hooks"] : nullptr;
  absl::StatusOr<Spec> spec = absl::NotFoundError("no poststop hooks");
  if (hooks != nullptr && hooks->contains("poststop")) {
    spec = ParseSpec(DumpJson(state.config), "config.json");
  }
  std::error_code ec;
  std::filesystem::remove_all(StateDir(global.root, id), ec);
  if (ec) return ErrnoError(ec.value(), absl::StrCat("remove ", StateDir(global.root, id)));
  if (spec.ok() && !spec->hooks.poststop.empty()) {
    absl::Status st =
        RunHooks(spec->hooks.poststop, StateJson(state, Status::kStopped), "poststop");
    if (!st.ok()) LogWarn("{}", st.message());
  }
  return absl::OkStatus();
}

}  // namespace berth::oci
