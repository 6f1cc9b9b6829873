#include "lowlevel-runtime/console.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/fd_util.h"
#include "common/status.h"

namespace berth::oci {

absl::StatusOr<UniqueFd> ConnectConsoleSocket(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return LastErrnoError("socket");
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return absl::InvalidArgumentError(absl::StrCat("console socket path too long: ", path));
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  if (::connect(fd.Get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0) {
    return LastErrnoError(absl::StrCat("connect to console socket ", path));
  }
  return fd;
}

absl::Status SendFd(int socket_fd, int fd, const std::string& name) {
  struct msghdr msg = {};
  struct iovec iov = {const_cast<char*>(name.data()), name.size()};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
  if (::sendmsg(socket_fd, &msg, MSG_NOSIGNAL) < 0) {
    return LastErrnoError("send the console master over the console socket");
  }
  return absl::OkStatus();
}

absl::Status SetupConsole(int socket_fd, const std::optional<ConsoleSize>& size) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd master, OpenFile("/dev/ptmx", O_RDWR | O_NOCTTY));
  if (::unlockpt(master.Get()) != 0) return LastErrnoError("unlockpt");
  char name[128];
  if (::ptsname_r(master.Get(), name, sizeof name) != 0) return LastErrnoError("ptsname");
  if (size && size->height > 0 && size->width > 0) {
    struct winsize ws = {};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    if (::ioctl(master.Get(), TIOCSWINSZ, &ws) != 0) return LastErrnoError("set console size");
  }
  BERTH_ASSIGN_OR_RETURN(UniqueFd slave, OpenFile(name, O_RDWR | O_NOCTTY));
  // /dev/console is a bind mount of the slave, as runc sets it up; best effort,
  // since /dev may be a read-only bind of the host's.
  // O_EXCL: never open an existing node (it may be the host's console device).
  int console = ::open("/dev/console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (console >= 0) ::close(console);
  (void)::mount(name, "/dev/console", nullptr, MS_BIND, nullptr);
  BERTH_RETURN_IF_ERROR(SendFd(socket_fd, master.Get(), name));
  master.Reset();
  if (::ioctl(slave.Get(), TIOCSCTTY, 0) != 0) return LastErrnoError("set controlling terminal");
  for (int target = 0; target <= 2; ++target) {
    if (::dup3(slave.Get(), target, 0) < 0) return LastErrnoError("dup console to stdio");
  }
  return absl::OkStatus();
}

}  // namespace berth::oci
