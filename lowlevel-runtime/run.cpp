// `run`: create + start, then (unless --detach) wait and return the exit code,
// forwarding signals to the container as runc does.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "common/process.h"
#include "common/status.h"
#include "lowlevel-runtime/commands.h"

namespace berth::oci {

absl::StatusOr<int> Run(const GlobalOptions& global, CreateOptions options, bool detach) {
  options.init_is_callers_child = detach;
  // Block the signals we forward before the init exists, so none is lost.
  sigset_t forwarded, previous;
  ::sigemptyset(&forwarded);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) {
    ::sigaddset(&forwarded, sig);
  }
  if (!detach) ::sigprocmask(SIG_BLOCK, &forwarded, &previous);
  BERTH_ASSIGN_OR_RETURN(pid_t pid, Create(global, options));
  if (absl::Status st = Start(global, options.id); !st.ok()) {
    (void)Delete(global, options.id, /*force=*/true);
    if (!detach) ::waitpid(pid, nullptr, 0);
    return st;
  }
  if (detach) return 0;

  ::sigaddset(&forwarded, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &forwarded, nullptr);
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      (void)Delete(global, options.id, /*force=*/true);
      return ExitCodeFromWaitStatus(status);
    }
    if (r < 0 && errno != EINTR) {
      (void)Delete(global, options.id, /*force=*/true);
      return LastErrnoError("wait for the container");
    }
    int sig = 0;
    if (::sigwait(&forwarded, &sig) == 0 && sig != SIGCHLD) ::kill(pid, sig);
  }
}

}  // namespace berth::oci
