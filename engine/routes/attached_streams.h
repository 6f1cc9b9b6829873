// The streams of a hijacked attach or exec connection, as dockerd's
// container/stream/attach.go runs them: the run's output to the client (raw
// with a tty, in stdcopy frames without), the client's input to the run's
// stdin, watched for the detach keys.
//
// How it ends, as with docker:
// - the run's output ends (it exited): the connection is closed;
// - the client typed the detach keys: the connection is closed, the run goes
//   on with its stdin open;
// - the client's input ended: with close_stdin and no tty the run's stdin is
//   closed and its output still flows (`echo hi | docker exec -i c cat`);
//   otherwise only the connection ends and the run goes on (an `exec -it`
//   whose client went away keeps running);
// - without stdin, the client closed the connection.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "engine/daemon/output_hub.h"

namespace berth::engine {

struct AttachedStreams {
  int fd = -1;           // the hijacked connection (not owned)
  std::string buffered;  // bytes of the client's input read with the request
  bool tty = false;
  bool want_stdin = false, want_stdout = false, want_stderr = false;
  std::string detach_keys;   // the key codes (ParseDetachKeys), watched for with a tty only
  bool close_stdin = false;  // dockerd's CloseStdin: the run's stdin closes at the client's EOF
  std::function<absl::Status(const std::string&)> write_stdin;
  std::function<void()> close_stdin_fn;
};

// Runs until one of the ends above; then shuts the connection down. The
// subscriber stays the caller's (to unsubscribe).
void PumpAttachedStreams(const AttachedStreams& streams, OutputSubscriber& output);

}  // namespace berth::engine
