#include "cli/attach.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cli/stream.h"

namespace berth::cli {

absl::Status PumpAttachedStreams(Hijacked conn, const StreamOptions& opts) {
  int fd = conn.fd.Get();
  if (opts.stdin) {
    // The copier owns a duplicate of the socket: it may outlive this call
    // (stdin never closed) without ever writing to a reused descriptor.
    int dup_fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd >= 0) {
      std::thread([dup_fd] {
        char buf[32 * 1024];
        for (;;) {
          ssize_t n = ::read(STDIN_FILENO, buf, sizeof(buf));
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) break;
          if (!WriteAll(dup_fd, std::string_view(buf, static_cast<size_t>(n))).ok()) break;
        }
        ::shutdown(dup_fd, SHUT_WR);
        ::close(dup_fd);
      }).detach();
    }
  }
  auto sink = [&opts](int stream, std::string_view data) -> absl::Status {
    if (stream == 2) {
      if (opts.stderr) return WriteAll(opts.tty ? STDOUT_FILENO : STDERR_FILENO, data);
      return absl::OkStatus();
    }
    if (opts.stdout) return WriteAll(STDOUT_FILENO, data);
    return absl::OkStatus();
  };
  StreamDemuxer demux(sink);
  auto feed = [&](std::string_view data) -> absl::Status {
    if (opts.tty) return sink(1, data);
    return demux.Feed(data);
  };
  if (!conn.pending.empty()) {
    if (absl::Status st = feed(conn.pending); !st.ok()) return st;
  }
  char buf[32 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ECONNRESET) break;
      return absl::InternalError(std::string("read from the attach stream: ") +
                                 std::strerror(errno));
    }
    if (n == 0) break;
    if (absl::Status st = feed(std::string_view(buf, static_cast<size_t>(n))); !st.ok()) return st;
  }
  return absl::OkStatus();
}

struct RawTerminal::Saved {
  termios tio{};
};

RawTerminal::RawTerminal() : saved_(std::make_unique<Saved>()) {
  if (::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &saved_->tio) == 0) {
    termios raw = saved_->tio;
    ::cfmakeraw(&raw);  // as moby/term's MakeRaw: no echo, no signals, no output processing
    if (::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) active_ = true;
  }
}

RawTerminal::~RawTerminal() {
  if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_->tio);
}

namespace {

const char* SignalName(int sig) {
  switch (sig) {
    case SIGINT:
      return "INT";
    case SIGTERM:
      return "TERM";
    case SIGHUP:
      return "HUP";
    case SIGQUIT:
      return "QUIT";
    case SIGUSR1:
      return "USR1";
    case SIGUSR2:
      return "USR2";
    default:
      return nullptr;
  }
}

}  // namespace

SignalForwarder::SignalForwarder(ApiClient* client, std::string container_id, bool proxy_signals,
                                 bool tty)
    : client_(client), id_(std::move(container_id)), tty_(tty) {
  sigset_t set;
  sigemptyset(&set);
  if (proxy_signals) {
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&set, s);
  }
  if (tty) sigaddset(&set, SIGWINCH);
  if (sigisemptyset(&set)) return;
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // Lives until the process exits (a blocked sigwait cannot be joined).
  std::thread([client = client_, id = id_, set] {
    for (;;) {
      int sig = 0;
      if (::sigwait(&set, &sig) != 0) continue;
      if (sig == SIGWINCH) {
        winsize ws{};
        if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) {
          (void)client->Do("POST", "/containers/" + id + "/resize",
                           {{"h", std::to_string(ws.ws_row)}, {"w", std::to_string(ws.ws_col)}});
        }
        continue;
      }
      if (const char* name = SignalName(sig)) {
        (void)client->Do("POST", "/containers/" + id + "/kill", {{"signal", name}});
      }
    }
  }).detach();
}

SignalForwarder::~SignalForwarder() = default;

void SignalForwarder::Resize() {
  if (!tty_) return;
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) {
    (void)client_->Do("POST", "/containers/" + id_ + "/resize",
                      {{"h", std::to_string(ws.ws_row)}, {"w", std::to_string(ws.ws_col)}});
  }
}

}  // namespace berth::cli
