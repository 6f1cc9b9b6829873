#include "common/unix_socket.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace berth {

absl::StatusOr<UniqueFd> ListenUnix(const std::string& path, int backlog, int socket_flags) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return absl::InvalidArgumentError(absl::StrCat("bad unix socket path: ", path));
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | socket_flags, 0));
  if (!fd) return LastErrnoError("socket");
  ::unlink(path.c_str());
  if (::bind(fd.Get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return LastErrnoError(absl::StrCat("bind ", path));
  }
  if (::listen(fd.Get(), backlog) != 0) return LastErrnoError(absl::StrCat("listen ", path));
  return fd;
}

}  // namespace berth
