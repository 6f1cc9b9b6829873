// Spawning child processes with exactly the descriptors we choose.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace berth {

struct SpawnOptions {
  std::vector<std::string> argv;                // argv[0] is looked up on PATH unless it has a '/'
  std::string path;                             // if set, executed instead of looking up argv[0]
  std::optional<std::vector<std::string>> env;  // nullopt: inherit ours
  std::string cwd;                              // empty: ours
  // Descriptors the child gets: child fd -> our fd. 0, 1 and 2 are inherited
  // unless mapped here; every other descriptor is closed in the child.
  std::map<int, int> fds;
  bool new_session = false;  // setsid() in the child
};

// Decodes a wait status the way shells do: the exit code, or 128 + signal.
int ExitCodeFromWaitStatus(int wait_status);

// A spawned child. Destroying it while still running kills (SIGKILL) and reaps it,
// so an error path never leaves a process behind; Detach() gives that up.
class ChildProcess {
 public:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // Waits for the child and returns its exit code (128 + signal when killed).
  absl::StatusOr<int> Wait();
  // As Wait(), but kills the child after timeout and reports DeadlineExceeded.
  absl::StatusOr<int> WaitFor(absl::Duration timeout);
  absl::Status Signal(int signo);
  // Leaves the child running; it is no longer ours to reap.
  pid_t Detach();

 private:
  pid_t pid_ = -1;
};

absl::StatusOr<ChildProcess> Spawn(const SpawnOptions& options);

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv to completion feeding it `input` and capturing stdout and stderr.
// Ignore SIGPIPE in the caller if the child may exit without reading its input.
absl::StatusOr<RunResult> RunAndCapture(const std::vector<std::string>& argv,
                                        const std::string& input = "");

}  // namespace berth
