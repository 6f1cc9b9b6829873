#include "lowlevel-runtime/sync_channel.h"

#include <sys/socket.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace berth::oci {

absl::StatusOr<std::pair<SyncChannel, SyncChannel>> SyncChannel::MakePair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return LastErrnoError("socketpair");
  }
  return std::make_pair(SyncChannel(UniqueFd(fds[0])), SyncChannel(UniqueFd(fds[1])));
}

absl::Status SyncChannel::Send(SyncMessage type, absl::string_view payload) {
  std::string packet(1, static_cast<char>(type));
  packet.append(payload.data(), payload.size());
  ssize_t n;
  do {
    n = ::send(fd_.Get(), packet.data(), packet.size(), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return LastErrnoError("send to container init");
  return absl::OkStatus();
}

void SyncChannel::SendError(const absl::Status& status) {
  (void)Send(SyncMessage::kError, status.message());
}

absl::StatusOr<std::string> SyncChannel::Receive(SyncMessage expected) {
  char buf[4096];
  ssize_t n;
  do {
    n = ::recv(fd_.Get(), buf, sizeof buf, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return LastErrnoError("receive from container init");
  if (n == 0) return absl::AbortedError("container init exited during setup");
  auto type = static_cast<SyncMessage>(buf[0]);
  std::string payload(buf + 1, static_cast<size_t>(n - 1));
  if (type == SyncMessage::kError) return absl::FailedPreconditionError(payload);
  if (type != expected) {
    return absl::InternalError(absl::StrCat("unexpected sync message '", std::string(1, buf[0]),
                                            "', wanted '",
                                            std::string(1, static_cast<char>(expected)), "'"));
  }
  return payload;
}

}  // namespace berth::oci
