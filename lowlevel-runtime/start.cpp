// `start`: release the init blocked on the exec fifo so it execs the process.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/fd_util.h"
#include "common/log.h"
#include "common/oci/runtime_spec.h"
#include "common/status.h"
#include "lowlevel-runtime/commands.h"
#include "lowlevel-runtime/container_state.h"
#include "lowlevel-runtime/hooks.h"

namespace berth::oci {

absl::Status Start(const GlobalOptions& global, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(ContainerState state, LoadState(global.root, id));
  Status status = CurrentStatus(global.root, state);
  if (status == Status::kStopped) {
    return absl::FailedPreconditionError("cannot start a container that has stopped");
  }
  if (status != Status::kCreated) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot start an already ", StatusName(status), " container"));
  }
  std::string fifo = ExecFifoPath(global.root, id);
  // Non-blocking: the open succeeds only while the init holds the fifo open.
  int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENXIO) {
      return absl::FailedPreconditionError("cannot start a container that has stopped");
    }
    return LastErrnoError(absl::StrCat("open exec fifo ", fifo));
  }
  UniqueFd writer(fd);
  // Unlink first: once the byte is read the container counts as running.
  if (::unlink(fifo.c_str()) != 0) return LastErrnoError(absl::StrCat("remove exec fifo ", fifo));
  BERTH_RETURN_IF_ERROR(WriteAll(writer.Get(), "0"));
  writer.Reset();

  // Parse the stored spec only when it has poststart hooks to run.
  const Json* hooks = state.config.contains("hooks") ? &state.config["hooks"] : nullptr;
  if (hooks == nullptr || !hooks->contains("poststart")) return absl::OkStatus();
  auto spec = ParseSpec(DumpJson(state.config), "config.json");
  if (spec.ok() && !spec->hooks.poststart.empty()) {
    // poststart failures are reported but do not stop the container (runtime spec).
    absl::Status st =
        RunHooks(spec->hooks.poststart, StateJson(state, Status::kRunning), "poststart");
    if (!st.ok()) LogWarn("{}", st.message());
  }
  return absl::OkStatus();
}

}  // namespace berth::oci
