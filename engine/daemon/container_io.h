// One run's stdio: the fifos berth-runtimed's shim hands to the container
// (EXEC_ROOT/<id>/init-stdin|stdout|stderr, or exec-<exec id>-... for an
// exec), and a thread that copies what the
// container writes into its json-file log and to the attached clients.
//
// The read ends are opened before the task is created (a fifo reader never
// blocks), with a write end of our own held until the shim has opened its
// own, so an early read cannot mistake "no writer yet" for the end. The shim
// holds its ends until the process exits, so the copier's EOF means the run's
// output is complete; and a berthd that dies does not make the container's
// writes fail: a restarted berthd reopens the fifos and goes on.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"
#include "engine/daemon/json_file_log.h"
#include "engine/daemon/output_hub.h"
#include "engine/runtimed_client.h"

namespace berth::engine {

// Writes data to a run's stdin (a duplicate of StdinFd(), written with no
// lock held): when the pipe is full it waits for room, asking open() every
// 250 ms whether the run still reads; FailedPrecondition once it does not.
absl::Status WriteToStdin(int fd, absl::string_view data, const std::function<bool()>& open);

class ContainerIo {
 public:
  struct Options {
    std::string dir;  // EXEC_ROOT/<id>
    // The fifos' name prefix: <dir>/<name>-stdin|stdout|stderr.
    std::string name = "init";
    bool tty = false;
    bool open_stdin = false;
    std::string log_path;  // empty: no log (the "none" driver, an exec)
    JsonFileOptions log_options;
    bool reopen = false;  // a restarted berthd: the fifos exist and the shim holds them
  };
  static absl::StatusOr<std::unique_ptr<ContainerIo>> Open(const Options& options,
                                                           std::shared_ptr<OutputHub> hub);
  ~ContainerIo();
  ContainerIo(const ContainerIo&) = delete;
  ContainerIo& operator=(const ContainerIo&) = delete;

  api::Stdio Stdio() const;
  // The shim has opened its ends (the task was created): start copying.
  void Start();
  // Waits until stdout and stderr reached EOF; false after timeout.
  bool WaitDrained(absl::Duration timeout);
  // Berthd's write end of the stdin fifo (non-blocking); -1 without stdin.
  int StdinFd() const { return stdin_.Get(); }
  // Lets go of berthd's end of stdin, so that once the shim lets go of its own
  // (Tasks.CloseIO) the container reads EOF.
  void CloseStdin() { stdin_.Reset(); }
  // Removes the fifos (the process is gone; a run's own are reused).
  void RemoveFifos() const;

 private:
  ContainerIo() = default;
  void Copy();

  Options options_;
  std::shared_ptr<OutputHub> hub_;
  std::string stdin_path_, stdout_path_, stderr_path_;
  UniqueFd stdin_, stdout_, stderr_;
  UniqueFd stdout_keep_, stderr_keep_;  // our write ends until the shim has its own
  UniqueFd wake_read_, wake_write_;
  std::unique_ptr<JsonFileLog> log_;
  std::thread copier_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool drained_ = false;
};

}  // namespace berth::engine
