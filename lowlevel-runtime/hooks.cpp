#include "lowlevel-runtime/hooks.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/fd_util.h"
#include "common/process.h"
#include "common/status.h"

namespace berth::oci {
namespace {

absl::Status RunHook(const Hook& hook, const std::string& state) {
  // Output goes to a memfd: no pipe to drain while waiting, nothing to deadlock on.
  UniqueFd output(::memfd_create("hook-output", MFD_CLOEXEC));
  if (!output) return LastErrnoError("memfd_create");
  BERTH_ASSIGN_OR_RETURN(auto input, MakePipe());

  SpawnOptions options;
  options.path = hook.path;
  options.argv = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  options.env = hook.env;
  options.fds = {{0, input.first.Get()}, {1, output.Get()}, {2, output.Get()}};
  BERTH_ASSIGN_OR_RETURN(ChildProcess child, Spawn(options));
  input.first.Reset();
  // The state is small (well under a pipe buffer); a hook that does not read it is fine.
  ::signal(SIGPIPE, SIG_IGN);
  (void)WriteAll(input.second.Get(), state);
  input.second.Reset();

  absl::StatusOr<int> code =
      hook.timeout ? child.WaitFor(absl::Seconds(*hook.timeout)) : child.Wait();
  ::lseek(output.Get(), 0, SEEK_SET);
  std::string text = ReadAll(output.Get()).value_or("");
  std::string trimmed(absl::StripTrailingAsciiWhitespace(text));
  if (!code.ok()) {
    if (code.status().code() == absl::StatusCode::kDeadlineExceeded) {
      return absl::DeadlineExceededError(
          absl::StrCat(hook.path, " did not finish within ", *hook.timeout, "s; killed"));
    }
    return code.status();
  }
  if (*code != 0) {
    return absl::FailedPreconditionError(absl::StrCat(hook.path, " exited with status ", *code,
                                                      trimmed.empty() ? "" : ": ", trimmed));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunHooks(const std::vector<Hook>& hooks, const Json& state, absl::string_view phase) {
  std::string input = DumpJson(state);
  for (size_t i = 0; i < hooks.size(); ++i) {
    absl::Status st = RunHook(hooks[i], input);
    if (!st.ok()) return Annotate(st, absl::StrCat("error running ", phase, " hook #", i));
  }
  return absl::OkStatus();
}

}  // namespace berth::oci
