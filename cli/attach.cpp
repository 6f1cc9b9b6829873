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

absl::StatusOr<std::string> ParseDetachKeys(std::string_view keys) {
  std::string codes;
  size_t pos = 0;
  for (;;) {
    size_t comma = keys.find(',', pos);
    std::string_view key =
        keys.substr(pos, comma == std::string_view::npos ? keys.npos : comma - pos);
    if (key.size() == 1) {
      codes += key[0];
    } else {
      if (key.size() != 6 || key.substr(0, 5) != "ctrl-") {
        return absl::InvalidArgumentError("Unknown character: '" + std::string(key) + "'");
      }
      char c = key[5];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c >= 'a' && c <= 'z') {
        codes += static_cast<char>(c - 'a' + 1);
      } else if (c == '@') {
        codes += '\0';
      } else if (c >= '[' && c <= '_') {  // [ \ ] ^ _
        codes += static_cast<char>(c - '[' + 27);
      } else {
        return absl::InvalidArgumentError("Unknown character: '" + std::string(key) + "'");
      }
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return codes;
}

EscapeDetector::Result EscapeDetector::Feed(std::string_view data) {
  Result r;
  if (keys_.empty()) {
    r.forward.assign(data);
    return r;
  }
  for (char c : data) {
    if (c == keys_[matched_]) {
      if (++matched_ == keys_.size()) {
        r.detached = true;
        matched_ = 0;
        return r;
      }
      continue;
    }
    // Mismatch: the held-back prefix goes through, then c starts over.
    r.forward.append(keys_, 0, matched_);
    matched_ = 0;
    if (c == keys_[0]) {
      if (keys_.size() == 1) {
        r.detached = true;
        return r;
      }
      matched_ = 1;
    } else {
      r.forward += c;
    }
  }
  return r;
}

absl::Status PumpAttachedStreams(Hijacked conn, const StreamOptions& opts, bool* detached) {
  int fd = conn.fd.Get();
  auto detach_flag = std::make_shared<std::atomic<bool>>(false);
  if (opts.stdin) {
    // The copier owns a duplicate of the socket: it may outlive this call
    // (stdin never closed) without ever writing to a reused descriptor.
    int dup_fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    std::string keys;
    if (opts.tty)
      keys = opts.detach_keys.empty() ? std::string(kDefaultDetachKeys) : opts.detach_keys;
    if (dup_fd >= 0) {
      std::thread([dup_fd, keys, detach_flag] {
        EscapeDetector escape(keys);
        char buf[32 * 1024];
        for (;;) {
          ssize_t n = ::read(STDIN_FILENO, buf, sizeof(buf));
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) break;
          auto r = escape.Feed(std::string_view(buf, static_cast<size_t>(n)));
          if (!r.forward.empty() && !WriteAll(dup_fd, r.forward).ok()) break;
          if (r.detached) {
            // The daemon is told too (it watches for the keys, as dockerd
            // does): it ends the attach and leaves the container's stdin
            // open. Then cut the connection: the output loop sees the end.
            // The flag is set first: the daemon may close the connection as
            // soon as it has the keys, and the output loop must then know
            // the end is a detach, not the container's exit.
            detach_flag->store(true);
            (void)WriteAll(dup_fd, keys);
            ::shutdown(dup_fd, SHUT_RDWR);
            ::close(dup_fd);
            return;
          }
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
    if (detach_flag->load()) break;
    if (absl::Status st = feed(std::string_view(buf, static_cast<size_t>(n))); !st.ok()) return st;
  }
  if (detached != nullptr) *detached = detach_flag->load();
  return absl::OkStatus();
}

struct RawTerminal::Saved {
  termios tio{};
  struct sigaction old_actions[4];
};

namespace {

constexpr int kFatalSignals[4] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
// The mode to restore from a signal handler (tcsetattr is async-signal-safe).
termios g_saved_tio;
std::atomic<bool> g_raw_active{false};

void RestoreAndReraise(int sig) {
  if (g_raw_active.exchange(false)) ::tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_tio);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace

RawTerminal::RawTerminal() : saved_(std::make_unique<Saved>()) {
  if (::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &saved_->tio) == 0) {
    termios raw = saved_->tio;
    ::cfmakeraw(&raw);  // as moby/term's MakeRaw: no echo, no signals, no output processing
    g_saved_tio = saved_->tio;
    g_raw_active.store(true);
    for (size_t i = 0; i < 4; ++i) {
      struct sigaction sa {};
      sa.sa_handler = RestoreAndReraise;
      sigemptyset(&sa.sa_mask);
      ::sigaction(kFatalSignals[i], &sa, &saved_->old_actions[i]);
    }
    if (::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) active_ = true;
  }
}

RawTerminal::~RawTerminal() {
  if (!saved_ || !g_raw_active.load()) return;
  if (g_raw_active.exchange(false)) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_->tio);
  for (size_t i = 0; i < 4; ++i) ::sigaction(kFatalSignals[i], &saved_->old_actions[i], nullptr);
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
                                 bool tty, std::string resize_path)
    : client_(client),
      id_(std::move(container_id)),
      tty_(tty),
      resize_path_(resize_path.empty() ? "/containers/" + id_ + "/resize" : resize_path) {
  sigset_t set;
  sigemptyset(&set);
  if (proxy_signals) {
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&set, s);
  }
  if (tty) sigaddset(&set, SIGWINCH);
  if (sigisemptyset(&set)) return;
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // Lives until the process exits (a blocked sigwait cannot be joined).
  std::thread([client = client_, id = id_, resize = resize_path_, set] {
    for (;;) {
      int sig = 0;
      if (::sigwait(&set, &sig) != 0) continue;
      if (sig == SIGWINCH) {
        winsize ws{};
        if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) {
          (void)client->Do("POST", resize,
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
    (void)client_->Do("POST", resize_path_,
                      {{"h", std::to_string(ws.ws_row)}, {"w", std::to_string(ws.ws_col)}});
  }
}

}  // namespace berth::cli
