// The stdio of one container process (the init or an exec), as containerd
// names it: fifo paths for stdin, stdout and stderr, or a terminal.
//
// Without a terminal the fifos are handed to the process itself (no copying in
// the shim): the shim opens each fifo read-write, so opening never blocks and a
// reader always exists, and gives the runtime a read-only (stdin) or
// write-only (stdout, stderr) descriptor reopened from it. The shim's
// read-write holds go when the process exits (stdout and stderr readers then
// see EOF) or, for stdin, on CloseIO.
//
// With a terminal the runtime sends the pty master over a console socket; the
// shim copies stdin to the master and the master to stdout on its event loop.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/event_loop.h"
#include "common/unique_fd.h"

namespace berth::shim {

struct StdioPaths {
  std::string stdin_path, stdout_path, stderr_path;
  bool terminal = false;
};

class ProcessIo {
 public:
  static absl::StatusOr<std::unique_ptr<ProcessIo>> Open(EventLoop& loop, const StdioPaths& paths);
  ~ProcessIo();
  ProcessIo(const ProcessIo&) = delete;
  ProcessIo& operator=(const ProcessIo&) = delete;

  // What the runtime's child gets as 0, 1 and 2 (absent: /dev/null).
  std::map<int, int> RuntimeStdio() const;
  // For a terminal: the socket to pass as --console-socket; else empty.
  const std::string& ConsoleSocket() const { return console_socket_; }
  // After the runtime command returned: closes the descriptors given to it and,
  // for a terminal, receives the pty master and starts copying.
  absl::Status Started();
  absl::Status Resize(uint32_t width, uint32_t height);
  void CloseStdin();
  // The process exited: copies what the pty still holds, then lets go of every
  // descriptor, so the readers of stdout and stderr see EOF.
  void Finish();

 private:
  explicit ProcessIo(EventLoop& loop) : loop_(loop) {}
  void CopyFromMaster();
  void CopyToMaster();
  void StopWatching(UniqueFd& fd);

  EventLoop& loop_;
  UniqueFd stdin_hold_, stdout_hold_, stderr_hold_;     // read-write opens of the fifos
  UniqueFd stdin_child_, stdout_child_, stderr_child_;  // given to the runtime
  std::string console_dir_, console_socket_;
  UniqueFd console_listener_, master_;
};

}  // namespace berth::shim
