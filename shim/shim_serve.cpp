// The long-lived shim: started by `start` with the bundle as working directory
// and its listening socket as fd 3. Logs to the bundle's `log` fifo (which
// containerd or runtimed reads), becomes the child subreaper (so it reaps the container's
// processes after the runtime exits), and serves the task service until
// Shutdown, on one thread.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "common/event_loop.h"
#include "common/log.h"
#include "common/status.h"
#include "common/ttrpc/server.h"
#include "shim/event_publisher.h"
#include "shim/shim_commands.h"
#include "shim/task_service.h"

namespace berth::shim {
namespace {

inline constexpr int kListenerFd = 3;

std::string SocketPathOf(int fd) {
  sockaddr_un addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "";
  return addr.sun_path;
}

absl::Status Serve(const ShimFlags& flags) {
  // containerd (or runtimed) reads the shim's log from the bundle's `log`
  // fifo. Opened for reading too, so that neither the open nor a write ever
  // fails for want of a reader (while the daemon restarts, lines wait in the
  // pipe), and non-blocking, so that a full pipe drops lines instead of
  // stopping the shim. A `log` that is a regular file is appended to.
  int log = ::open("log", O_RDWR | O_APPEND | O_NONBLOCK | O_CLOEXEC);
  if (log >= 0) {
    ::dup2(log, STDERR_FILENO);
    ::close(log);
  }
  LogConfig log_config;
  log_config.level = flags.debug ? LogLevel::kDebug : LogLevel::kInfo;
  BERTH_RETURN_IF_ERROR(ConfigureLogging(log_config));
  ::signal(SIGPIPE, SIG_IGN);
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    return LastErrnoError("become the child subreaper");
  }
  sigset_t mask;
  ::sigemptyset(&mask);
  ::sigaddset(&mask, SIGCHLD);
  ::sigaddset(&mask, SIGTERM);
  ::sigaddset(&mask, SIGINT);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  int listening = 0;
  socklen_t len = sizeof listening;
  if (::getsockopt(kListenerFd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) {
    return absl::FailedPreconditionError(
        "fd 3 is not a listening socket: the shim is started by its `start` command");
  }
  UniqueFd listener(kListenerFd);
  UniqueFd signals(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signals) return LastErrnoError("signalfd");

  ::fcntl(listener.Get(), F_SETFD, FD_CLOEXEC);
  ::fcntl(listener.Get(), F_SETFL, O_NONBLOCK);
  std::string socket_path = SocketPathOf(listener.Get());

  EventLoop loop;
  if (!loop.ok()) return LastErrnoError("epoll_create1");
  ttrpc::Server server(loop);
  const char* ttrpc_address = std::getenv("TTRPC_ADDRESS");
  EventPublisher events(ttrpc_address != nullptr ? ttrpc_address : "", flags.namespace_name);
  TaskService service(loop, server, events, {flags.namespace_name, flags.id});
  BERTH_RETURN_IF_ERROR(server.Serve(std::move(listener)));

  bool terminate = false;
  BERTH_RETURN_IF_ERROR(loop.Add(signals.Get(), EPOLLIN, [&](uint32_t) {
    signalfd_siginfo info;
    while (::read(signals.Get(), &info, sizeof info) == sizeof info) {
      if (info.ssi_signo == SIGCHLD) {
        service.Reap();
      } else {
        LogInfo("signal {}: exiting", info.ssi_signo);
        terminate = true;
        loop.Stop();
      }
    }
  }));
  LogDebug("shim {} serving {} on {}", ::getpid(), flags.id, socket_path);
  absl::Status ran = loop.Run();
  loop.Remove(signals.Get());
  if (!socket_path.empty()) ::unlink(socket_path.c_str());
  (void)terminate;
  return ran;
}

}  // namespace

int ServeShim(const ShimFlags& flags) {
  absl::Status st = Serve(flags);
  if (!st.ok()) {
    LogError("shim: {}", st.message());
    return 1;
  }
  return 0;
}

}  // namespace berth::shim
