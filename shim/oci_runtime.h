// The OCI runtime binary (berth-oci, runc or crun) as the shim drives it: runc's
// command line, `--root ROOT --log BUNDLE/log.json --log-format json`. A failed
// command's error is the last error the runtime logged during that command, as
// containerd's runc shim reports it ("OCI runtime create failed: ...").
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::shim {

class OciRuntime {
 public:
  // binary: a name looked up on PATH, or a path. root: the runtime's --root.
  // bundle: where the runtime runs and logs (BUNDLE/log.json); empty for
  // commands about no container (features), which then log to stderr.
  OciRuntime(std::string binary, std::string root, std::string bundle)
      : binary_(std::move(binary)), root_(std::move(root)), bundle_(std::move(bundle)) {}

  const std::string& binary() const { return binary_; }
  const std::string& root() const { return root_; }

  // Runs `RUNTIME [global flags] ARGS...`; `stdio` maps the child's 0/1/2 to our
  // fds (unmapped ones are /dev/null). `what` names the operation in errors.
  absl::Status Run(const std::string& what, const std::vector<std::string>& args,
                   const std::map<int, int>& stdio = {}) const;
  // As Run, returning stdout.
  absl::StatusOr<std::string> Output(const std::string& what,
                                     const std::vector<std::string>& args) const;

 private:
  std::vector<std::string> Argv(const std::vector<std::string>& args) const;
  std::string LogPath() const;
  // Where this command's log lines will start (see RuntimeLogMark); 0 without a bundle.
  off_t MarkLog() const;
  // The last error the command logged from `mark` on; "" without a bundle.
  std::string LoggedError(off_t mark) const;

  std::string binary_;
  std::string root_;
  std::string bundle_;
};

// The runtime's log (BUNDLE/log.json) is one file for every command on a
// container. A command's lines are those appended after the size the file had
// before it ran: a shim runs one runtime command at a time (its handlers run on
// one thread and wait for the runtime to exit; `shim delete` runs only once the
// serving shim is gone), so nothing else writes in between.
inline constexpr off_t kRuntimeLogLimit = off_t{1} << 20;
// Before a command: the offset its lines will start at. A log larger than
// `limit` is emptied first, so the file stays bounded (berth-oci and runc open
// it O_APPEND: even a writer that kept it open writes at the new end).
off_t RuntimeLogMark(const std::string& path, off_t limit = kRuntimeLogLimit);
// After a failed command: the "msg" of the last JSON line at level "error" from
// `mark` on, or "" if there is none. A log now shorter than `mark` was emptied
// meanwhile, and is read from its start.
std::string RuntimeLogErrorSince(const std::string& path, off_t mark);

// Reads the pid a runtime wrote with --pid-file.
absl::StatusOr<pid_t> ReadPidFile(const std::string& path);

}  // namespace berth::shim
