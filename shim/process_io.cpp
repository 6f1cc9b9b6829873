#include "shim/process_io.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/fd_util.h"
#include "common/log.h"
#include "common/status.h"
#include "common/unix_socket.h"

namespace berth::shim {
namespace {

// Opens a fifo read-write (never blocks), then the end the process needs.
absl::Status OpenFifo(const std::string& path, int child_flags, UniqueFd& hold, UniqueFd& child) {
  if (path.empty()) return absl::OkStatus();
  BERTH_ASSIGN_OR_RETURN(hold, OpenFile(path, O_RDWR | O_CLOEXEC));
  BERTH_ASSIGN_OR_RETURN(
      child, OpenFile(absl::StrCat("/proc/self/fd/", hold.Get()), child_flags | O_CLOEXEC));
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> ReceiveFd(int socket) {
  char data[256];
  iovec iov{data, sizeof data};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return LastErrnoError("receive the pty master");
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      return UniqueFd(fd);
    }
  }
  return absl::DataLossError("the console socket message carried no descriptor");
}

}  // namespace

absl::StatusOr<std::unique_ptr<ProcessIo>> ProcessIo::Open(EventLoop& loop,
                                                           const StdioPaths& paths) {
  std::unique_ptr<ProcessIo> io(new ProcessIo(loop));
  BERTH_RETURN_IF_ERROR(OpenFifo(paths.stdin_path, O_RDONLY, io->stdin_hold_, io->stdin_child_));
  // O_APPEND: stdout and stderr may name one regular file (a log); two
  // descriptors at offset 0 would overwrite each other. Fifos ignore it.
  BERTH_RETURN_IF_ERROR(
      OpenFifo(paths.stdout_path, O_WRONLY | O_APPEND, io->stdout_hold_, io->stdout_child_));
  if (!paths.terminal) {
    BERTH_RETURN_IF_ERROR(
        OpenFifo(paths.stderr_path, O_WRONLY | O_APPEND, io->stderr_hold_, io->stderr_child_));
    return io;
  }
  // The terminal's I/O goes through the master: the process gets no fifo.
  io->stdin_child_.Reset();
  io->stdout_child_.Reset();
  char dir[] = "/tmp/berth-shim-console-XXXXXX";
  if (::mkdtemp(dir) == nullptr) return LastErrnoError("create the console socket directory");
  io->console_dir_ = dir;
  io->console_socket_ = io->console_dir_ + "/console.sock";
  BERTH_ASSIGN_OR_RETURN(io->console_listener_, ListenUnix(io->console_socket_, 1, SOCK_NONBLOCK));
  return io;
}

ProcessIo::~ProcessIo() {
  StopWatching(master_);
  StopWatching(stdin_hold_);
  if (!console_dir_.empty()) {
    ::unlink(console_socket_.c_str());
    ::rmdir(console_dir_.c_str());
  }
}

void ProcessIo::StopWatching(UniqueFd& fd) {
  if (fd && loop_.Watching(fd.Get())) loop_.Remove(fd.Get());
}

std::map<int, int> ProcessIo::RuntimeStdio() const {
  std::map<int, int> stdio;
  if (stdin_child_) stdio[0] = stdin_child_.Get();
  if (stdout_child_) stdio[1] = stdout_child_.Get();
  if (stderr_child_) stdio[2] = stderr_child_.Get();
  return stdio;
}

absl::Status ProcessIo::Started() {
  stdin_child_.Reset();
  stdout_child_.Reset();
  stderr_child_.Reset();
  if (!console_listener_) return absl::OkStatus();
  UniqueFd conn(::accept4(console_listener_.Get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) return LastErrnoError("accept on the console socket");
  BERTH_ASSIGN_OR_RETURN(master_, ReceiveFd(conn.Get()));
  console_listener_.Reset();
  ::unlink(console_socket_.c_str());
  int flags = ::fcntl(master_.Get(), F_GETFL);
  ::fcntl(master_.Get(), F_SETFL, flags | O_NONBLOCK);
  BERTH_RETURN_IF_ERROR(loop_.Add(master_.Get(), EPOLLIN, [this](uint32_t) { CopyFromMaster(); }));
  if (stdin_hold_) {
    flags = ::fcntl(stdin_hold_.Get(), F_GETFL);
    ::fcntl(stdin_hold_.Get(), F_SETFL, flags | O_NONBLOCK);
    BERTH_RETURN_IF_ERROR(
        loop_.Add(stdin_hold_.Get(), EPOLLIN, [this](uint32_t) { CopyToMaster(); }));
  }
  return absl::OkStatus();
}

void ProcessIo::CopyFromMaster() {
  char buf[32 * 1024];
  for (;;) {
    ssize_t n = ::read(master_.Get(), buf, sizeof buf);
    if (n > 0) {
      if (stdout_hold_) (void)WriteAll(stdout_hold_.Get(), absl::string_view(buf, size_t(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    // EIO: every slave descriptor is closed; the output is complete.
    StopWatching(master_);
    return;
  }
}

void ProcessIo::CopyToMaster() {
  char buf[32 * 1024];
  ssize_t n = ::read(stdin_hold_.Get(), buf, sizeof buf);
  if (n > 0 && master_) (void)WriteAll(master_.Get(), absl::string_view(buf, size_t(n)));
}

absl::Status ProcessIo::Resize(uint32_t width, uint32_t height) {
  if (!master_) return absl::FailedPreconditionError("the process has no terminal");
  winsize ws{};
  ws.ws_col = static_cast<unsigned short>(width);
  ws.ws_row = static_cast<unsigned short>(height);
  if (::ioctl(master_.Get(), TIOCSWINSZ, &ws) != 0) return LastErrnoError("resize the pty");
  return absl::OkStatus();
}

void ProcessIo::CloseStdin() {
  StopWatching(stdin_hold_);
  stdin_hold_.Reset();
}

void ProcessIo::Finish() {
  if (master_ && loop_.Watching(master_.Get())) CopyFromMaster();
  StopWatching(master_);
  master_.Reset();
  CloseStdin();
  stdout_hold_.Reset();
  stderr_hold_.Reset();
}

}  // namespace berth::shim
