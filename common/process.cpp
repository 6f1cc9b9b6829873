#include "common/process.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/fd_util.h"
#include "common/status.h"

namespace berth {

int ExitCodeFromWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      (void)Wait();
    }
    pid_ = std::exchange(other.pid_, -1);
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    (void)Wait();
  }
}

absl::StatusOr<int> ChildProcess::Wait() {
  if (pid_ <= 0) return absl::FailedPreconditionError("no child process to wait for");
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid_, &status, 0);
    if (r == pid_) break;
    if (r < 0 && errno == EINTR) continue;
    return LastErrnoError(absl::StrCat("waitpid ", pid_));
  }
  pid_ = -1;
  return ExitCodeFromWaitStatus(status);
}

absl::StatusOr<int> ChildProcess::WaitFor(absl::Duration timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("no child process to wait for");
  absl::Time deadline = absl::Now() + timeout;
  absl::Duration pause = absl::Microseconds(200);
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return ExitCodeFromWaitStatus(status);
    }
    if (r < 0 && errno != EINTR) return LastErrnoError(absl::StrCat("waitpid ", pid_));
    if (absl::Now() >= deadline) {
      pid_t pid = pid_;
      ::kill(pid_, SIGKILL);
      (void)Wait();
      return absl::DeadlineExceededError(absl::StrCat("process ", pid, " still running after ",
                                                      absl::FormatDuration(timeout), "; killed"));
    }
    absl::SleepFor(pause);
    pause = std::min(pause * 2, absl::Milliseconds(20));
  }
}

absl::Status ChildProcess::Signal(int signo) {
  if (pid_ <= 0) return absl::FailedPreconditionError("no child process to signal");
  if (::kill(pid_, signo) != 0) return LastErrnoError(absl::StrCat("kill ", pid_));
  return absl::OkStatus();
}

pid_t ChildProcess::Detach() { return std::exchange(pid_, -1); }

namespace {

// Everything the child needs, prepared before fork so the child allocates nothing.
struct PreparedExec {
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;               // empty: inherit
  std::vector<std::pair<int, int>> fds;  // (child fd, parent fd), sorted by child fd
};

[[noreturn]] void ChildFail(int report_fd, int err) {
  (void)!::write(report_fd, &err, sizeof err);
  ::_exit(127);
}

// Runs in the child between fork and exec: async-signal-safe calls only.
[[noreturn]] void ExecChild(const SpawnOptions& options, PreparedExec& prep, int report_fd) {
  sigset_t all;
  ::sigemptyset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);

  if (options.new_session && ::setsid() < 0) ChildFail(report_fd, errno);

  // Move every source above the highest target first, so a dup2 cannot clobber
  // a source another mapping still needs.
  int highest = report_fd;
  for (auto [child_fd, parent_fd] : prep.fds) highest = std::max({highest, child_fd, parent_fd});
  std::vector<std::pair<int, int>>& fds = prep.fds;
  for (auto& [child_fd, parent_fd] : fds) {
    int moved = ::fcntl(parent_fd, F_DUPFD_CLOEXEC, highest + 1);
    if (moved < 0) ChildFail(report_fd, errno);
    parent_fd = moved;
  }
  // The report pipe must survive until exec; keep it above every target too.
  int report = ::fcntl(report_fd, F_DUPFD_CLOEXEC, highest + 1);
  if (report < 0) ChildFail(report_fd, errno);
  report_fd = report;
  for (auto [child_fd, parent_fd] : fds) {
    if (::dup2(parent_fd, child_fd) < 0) ChildFail(report_fd, errno);
  }
  // Close every descriptor that is neither stdio nor a target (the moved sources
  // and the report pipe are close-on-exec).
  unsigned next = 3;
  for (auto [child_fd, parent_fd] : fds) {
    (void)parent_fd;
    if (child_fd < 3) continue;
    if (static_cast<unsigned>(child_fd) > next) {
      ::close_range(next, static_cast<unsigned>(child_fd) - 1, 0);
    }
    next = static_cast<unsigned>(child_fd) + 1;
  }
  ::close_range(next, ~0U, CLOSE_RANGE_CLOEXEC);

  if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ChildFail(report_fd, errno);
  const char* program = options.path.empty() ? prep.argv[0] : options.path.c_str();
  if (prep.envp.empty()) {
    ::execvp(program, prep.argv.data());
  } else {
    ::execvpe(program, prep.argv.data(), prep.envp.data());
  }
  ChildFail(report_fd, errno);
}

}  // namespace

absl::StatusOr<ChildProcess> Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("spawn: empty argv");
  PreparedExec prep;
  for (const std::string& arg : options.argv) prep.argv.push_back(const_cast<char*>(arg.c_str()));
  prep.argv.push_back(nullptr);
  if (options.env) {
    prep.env_storage = *options.env;
    for (std::string& e : prep.env_storage) prep.envp.push_back(e.data());
    prep.envp.push_back(nullptr);
  }
  for (auto [child_fd, parent_fd] : options.fds) {
    if (child_fd < 0 || parent_fd < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("spawn: bad descriptor mapping ", child_fd, " <- ", parent_fd));
    }
    prep.fds.emplace_back(child_fd, parent_fd);
  }

  BERTH_ASSIGN_OR_RETURN(auto report, MakePipe());
  pid_t pid = ::fork();
  if (pid < 0) return LastErrnoError("fork");
  if (pid == 0) ExecChild(options, prep, report.second.Get());

  ChildProcess child(pid);
  report.second.Reset();
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(report.first.Get(), &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  if (n == sizeof child_errno) {
    (void)child.Wait();
    return ErrnoError(child_errno,
                      absl::StrCat("exec ", options.path.empty() ? options.argv[0] : options.path));
  }
  return child;
}

absl::StatusOr<RunResult> RunAndCapture(const std::vector<std::string>& argv,
                                        const std::string& input) {
  BERTH_ASSIGN_OR_RETURN(auto in, MakePipe());
  BERTH_ASSIGN_OR_RETURN(auto out, MakePipe());
  BERTH_ASSIGN_OR_RETURN(auto err, MakePipe());
  SpawnOptions options;
  options.argv = argv;
  options.fds = {{0, in.first.Get()}, {1, out.second.Get()}, {2, err.second.Get()}};
  BERTH_ASSIGN_OR_RETURN(ChildProcess child, Spawn(options));
  in.first.Reset();
  out.second.Reset();
  err.second.Reset();

  RunResult result;
  absl::string_view pending = input;
  if (pending.empty()) in.second.Reset();
  ::fcntl(in.second.Get(), F_SETFL, O_NONBLOCK);
  while (out.first || err.first) {
    struct pollfd pfds[3] = {
        {out.first.Get(), POLLIN, 0}, {err.first.Get(), POLLIN, 0}, {in.second.Get(), POLLOUT, 0}};
    if (::poll(pfds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return LastErrnoError("poll");
    }
    UniqueFd* readers[2] = {&out.first, &err.first};
    std::string* sinks[2] = {&result.out, &result.err};
    for (int i = 0; i < 2; ++i) {
      if (pfds[i].revents == 0) continue;
      char buf[8192];
      ssize_t n = ::read(readers[i]->Get(), buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        readers[i]->Reset();
      }
    }
    if (pfds[2].revents != 0) {
      ssize_t n = ::write(in.second.Get(), pending.data(), pending.size());
      if (n > 0) pending.remove_prefix(static_cast<size_t>(n));
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || pending.empty()) in.second.Reset();
    }
  }
  BERTH_ASSIGN_OR_RETURN(result.exit_code, child.Wait());
  return result;
}

}  // namespace berth
