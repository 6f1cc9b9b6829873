// The client side of a hijacked attach connection, as docker's
// hijackedIOStreamer: the container's output to our stdout/stderr (framed
// streams demultiplexed unless it has a tty), our stdin to the container (the
// write side closed at EOF), the terminal in raw mode for -it, and signals
// forwarded to the container (POST /kill) when it has no tty.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "cli/api_client.h"

namespace berth::cli {

struct StreamOptions {
  bool tty = false;
  bool stdin = false;
  bool stdout = true;
  bool stderr = true;
};

// Copies the output until the daemon ends the stream; stdin (if attached) is
// copied by a helper thread that does not hold up the return.
absl::Status PumpAttachedStreams(Hijacked conn, const StreamOptions& opts);

// Puts the terminal on stdin in raw mode for its lifetime (-it on a tty).
class RawTerminal {
 public:
  RawTerminal();
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  bool active_ = false;
  struct Saved;
  std::unique_ptr<Saved> saved_;
};

// Forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1/2 to the container (when
// proxy_signals) and resizes its tty on SIGWINCH (when tty). Blocks those
// signals in the calling thread (and so in threads started after it) and
// handles them on a thread of its own.
class SignalForwarder {
 public:
  SignalForwarder(ApiClient* client, std::string container_id, bool proxy_signals, bool tty);
  ~SignalForwarder();
  SignalForwarder(const SignalForwarder&) = delete;
  SignalForwarder& operator=(const SignalForwarder&) = delete;

  // POST /containers/{id}/resize with the terminal's size.
  void Resize();

 private:
  ApiClient* client_;
  std::string id_;
  bool tty_;
};

}  // namespace berth::cli
