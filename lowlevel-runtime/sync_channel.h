// The channel between `berth-oci create` and the container's init while it is
// being built: a SOCK_SEQPACKET socketpair, one message per packet.
#pragma once

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace berth::oci {

enum class SyncMessage : char {
  kGo = 'G',         // parent -> init: ids mapped, cgroup joined; set up the container
  kRunHooks = 'H',   // init -> parent: namespaces ready; run prestart/createRuntime hooks
  kHooksDone = 'h',  // parent -> init: hooks ran; continue
  kReady = 'R',      // init -> parent: container built, waiting for `start`
  kError = 'E',      // either way: payload is the error message; the sender gives up
};

class SyncChannel {
 public:
  static absl::StatusOr<std::pair<SyncChannel, SyncChannel>> MakePair();
  explicit SyncChannel(UniqueFd fd) : fd_(std::move(fd)) {}

  absl::Status Send(SyncMessage type, absl::string_view payload = "");
  // Sends kError with status' message.
  void SendError(const absl::Status& status);
  // Waits for the next message; an error from the peer, or the peer going away,
  // becomes an error status; anything but `expected` is an error too.
  absl::Status Expect(SyncMessage expected) { return Receive(expected).status(); }
  // As Expect, returning the message's payload.
  absl::StatusOr<std::string> Receive(SyncMessage expected);

  int fd() const { return fd_.Get(); }
  void Close() { fd_.Reset(); }

 private:
  UniqueFd fd_;
};

}  // namespace berth::oci
