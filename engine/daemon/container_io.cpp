#include "engine/daemon/container_io.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status.h"

namespace berth::engine {
namespace {

absl::Status MakeFifo(const std::string& path) {
  if (::mkfifo(path.c_str(), 0600) != 0 && errno != EEXIST) {
    return LastErrnoError(absl::StrCat("mkfifo ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> OpenPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return LastErrnoError(absl::StrCat("open ", path));
  return UniqueFd(fd);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ContainerIo>> ContainerIo::Open(const Options& options,
                                                               std::shared_ptr<OutputHub> hub) {
  std::unique_ptr<ContainerIo> io(new ContainerIo());
  io->options_ = options;
  io->hub_ = std::move(hub);
  if (::mkdir(options.dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return LastErrnoError(absl::StrCat("mkdir ", options.dir));
  }
  io->stdout_path_ = absl::StrCat(options.dir, "/", options.name, "-stdout");
  BERTH_RETURN_IF_ERROR(MakeFifo(io->stdout_path_));
  BERTH_ASSIGN_OR_RETURN(io->stdout_, OpenPath(io->stdout_path_, O_RDONLY | O_NONBLOCK));
  if (!options.tty) {
    io->stderr_path_ = absl::StrCat(options.dir, "/", options.name, "-stderr");
    BERTH_RETURN_IF_ERROR(MakeFifo(io->stderr_path_));
    BERTH_ASSIGN_OR_RETURN(io->stderr_, OpenPath(io->stderr_path_, O_RDONLY | O_NONBLOCK));
  }
  if (!options.reopen) {
    BERTH_ASSIGN_OR_RETURN(io->stdout_keep_, OpenPath(io->stdout_path_, O_WRONLY | O_NONBLOCK));
    if (io->stderr_) {
      BERTH_ASSIGN_OR_RETURN(io->stderr_keep_, OpenPath(io->stderr_path_, O_WRONLY | O_NONBLOCK));
    }
  }
  if (options.open_stdin) {
    io->stdin_path_ = absl::StrCat(options.dir, "/", options.name, "-stdin");
    BERTH_RETURN_IF_ERROR(MakeFifo(io->stdin_path_));
    // Read-write: opening never waits for the shim, and the container sees
    // EOF only when berthd closes stdin through CloseIO. Non-blocking: a
    // process that stops reading cannot hold a writer forever (WriteToStdin).
    BERTH_ASSIGN_OR_RETURN(io->stdin_, OpenPath(io->stdin_path_, O_RDWR | O_NONBLOCK));
  }
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) return LastErrnoError("pipe");
  io->wake_read_ = UniqueFd(wake[0]);
  io->wake_write_ = UniqueFd(wake[1]);
  if (!options.log_path.empty()) {
    BERTH_ASSIGN_OR_RETURN(io->log_, JsonFileLog::Open(options.log_path, options.log_options));
  }
  return io;
}

absl::Status WriteToStdin(int fd, absl::string_view data, const std::function<bool()>& open) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n >= 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return LastErrnoError("write stdin");
    if (!open()) return absl::FailedPreconditionError("stdin is closed: the process has ended");
    pollfd p{fd, POLLOUT, 0};
    (void)::poll(&p, 1, 250);
  }
  return absl::OkStatus();
}

ContainerIo::~ContainerIo() {
  if (copier_.joinable()) {
    (void)!::write(wake_write_.Get(), "x", 1);
    copier_.join();
  }
}

void ContainerIo::RemoveFifos() const {
  for (const std::string& path : {stdin_path_, stdout_path_, stderr_path_}) {
    if (!path.empty()) ::unlink(path.c_str());
  }
}

api::Stdio ContainerIo::Stdio() const {
  api::Stdio stdio;
  stdio.set_stdin(stdin_path_);
  stdio.set_stdout(stdout_path_);
  stdio.set_stderr(stderr_path_);
  stdio.set_terminal(options_.tty);
  return stdio;
}

void ContainerIo::Start() {
  stdout_keep_.Reset();
  stderr_keep_.Reset();
  copier_ = std::thread([this] { Copy(); });
}

void ContainerIo::Copy() {
  struct Stream {
    UniqueFd* fd;
    StreamKind kind;
  };
  std::vector<Stream> open;
  if (stdout_) open.push_back({&stdout_, StreamKind::kStdout});
  if (stderr_) open.push_back({&stderr_, StreamKind::kStderr});
  std::string buffer(64 << 10, '\0');
  while (!open.empty()) {
    std::vector<pollfd> fds;
    for (const Stream& s : open) fds.push_back({s.fd->Get(), POLLIN, 0});
    fds.push_back({wake_read_.Get(), POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      LogError("poll container output: {}", strerror(errno));
      break;
    }
    if (fds.back().revents != 0) break;  // berthd lets go of this run
    for (size_t i = open.size(); i-- > 0;) {
      if (fds[i].revents == 0) continue;
      ssize_t n = ::read(open[i].fd->Get(), buffer.data(), buffer.size());
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) {
        if (log_) log_->Flush(open[i].kind);
        open.erase(open.begin() + static_cast<std::ptrdiff_t>(i));
        continue;
      }
      std::string data(buffer.data(), static_cast<size_t>(n));
      if (log_) log_->Write(open[i].kind, data);
      hub_->Publish(open[i].kind, data);
    }
  }
  std::lock_guard lock(mu_);
  drained_ = open.empty();
  cv_.notify_all();
}

bool ContainerIo::WaitDrained(absl::Duration timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout), [&] { return drained_; });
}

}  // namespace berth::engine
