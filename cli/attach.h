// The client side of a hijacked attach connection, as docker's
// hijackedIOStreamer: the container's output to our stdout/stderr (framed
// streams demultiplexed unless it has a tty), our stdin to the container (the
// write side closed at EOF), the terminal in raw mode for -it, and signals
// forwarded to the container (POST /kill) when it has no tty.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/api_client.h"

namespace berth::cli {

struct StreamOptions {
  bool tty = false;
  bool stdin = false;
  bool stdout = true;
  bool stderr = true;
  // The detach sequence (bytes, from ParseDetachKeys) watched for on stdin
  // when tty && stdin, as docker's client-side term.EscapeProxy; empty: ctrl-p,ctrl-q.
  std::string detach_keys;
};

// The default detach sequence: ctrl-p, ctrl-q.
inline constexpr std::string_view kDefaultDetachKeys = "\x10\x11";

// moby/term's ToBytes: "ctrl-p,ctrl-q" -> "\x10\x11"; a key is one character
// or ctrl-<a-z @ [ \\ ] ^ _>. Error: "Unknown character: 'xyz'".
absl::StatusOr<std::string> ParseDetachKeys(std::string_view keys);

// term.EscapeProxy's matcher: feeds stdin bytes, holds back a partial match
// of the sequence (across reads), and reports the complete sequence.
class EscapeDetector {
 public:
  explicit EscapeDetector(std::string keys) : keys_(std::move(keys)) {}
  struct Result {
    std::string forward;    // bytes to send to the container now
    bool detached = false;  // the whole sequence was typed (not forwarded)
  };
  Result Feed(std::string_view data);

 private:
  std::string keys_;
  size_t matched_ = 0;
};

// Copies the output until the daemon ends the stream; stdin (if attached) is
// copied by a helper thread that does not hold up the return. *detached (if
// given) is set when the user typed the detach sequence (the stream is then
// cut on our side).
absl::Status PumpAttachedStreams(Hijacked conn, const StreamOptions& opts,
                                 bool* detached = nullptr);

// Puts the terminal on stdin in raw mode for its lifetime (-it on a tty). A
// SIGINT, SIGTERM, SIGHUP or SIGQUIT that would end the process restores the
// terminal first (then takes its default action).
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
  // resize_path: where SIGWINCH posts the size (/exec/{id}/resize for exec);
  // empty: /containers/{id}/resize.
  SignalForwarder(ApiClient* client, std::string container_id, bool proxy_signals, bool tty,
                  std::string resize_path = "");
  ~SignalForwarder();
  SignalForwarder(const SignalForwarder&) = delete;
  SignalForwarder& operator=(const SignalForwarder&) = delete;

  // POST /containers/{id}/resize with the terminal's size.
  void Resize();

 private:
  ApiClient* client_;
  std::string id_;
  bool tty_;
  std::string resize_path_;
};

}  // namespace berth::cli
