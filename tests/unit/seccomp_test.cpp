#include "lowlevel-runtime/security/seccomp.h"

#include <fcntl.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

using berth::oci::Seccomp;
using berth::oci::SeccompArg;
using berth::oci::SeccompFilter;
using berth::oci::SeccompSyscall;

SeccompSyscall Rule(std::vector<std::string> names, std::string action,
                    std::optional<uint32_t> errno_ret = std::nullopt,
                    std::vector<SeccompArg> args = {}) {
  SeccompSyscall rule;
  rule.names = std::move(names);
  rule.action = std::move(action);
  rule.errno_ret = errno_ret;
  rule.args = std::move(args);
  return rule;
}

Seccomp Profile(std::string default_action, std::vector<SeccompSyscall> syscalls) {
  Seccomp spec;
  spec.default_action = std::move(default_action);
  spec.syscalls = std::move(syscalls);
  return spec;
}

void Put(int fd, const char* text) {
  if (::write(fd, text, std::strlen(text)) < 0) ::_exit(120);
}

// Appends "name:0 " when the raw syscall succeeded, else "name:<errno> ".
// Allocates nothing: it runs under filters that may deny brk and mmap.
void Report(int fd, const char* name, long rc) {
  int err = rc < 0 ? errno : 0;
  char line[64];
  std::snprintf(line, sizeof line, "%s:%d ", name, err);
  Put(fd, line);
}

struct ChildOutcome {
  int wait_status = 0;
  std::string out;
};

// Loads `filter` in a forked child (which sets no_new_privs first, unless told
// not to), runs body(fd) there and collects what it wrote to fd. The test
// process itself never gets a filter.
template <typename Body>
ChildOutcome RunFiltered(SeccompFilter& filter, Body body, bool no_new_privs = true) {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    // A filter that kills must not leave core dumps behind.
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    if (no_new_privs) ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    absl::Status loaded = filter.Load();
    if (!loaded.ok()) {
      Put(fds[1], std::string(loaded.message()).c_str());
      ::_exit(1);
    }
    body(fds[1]);
    ::_exit(0);
  }
  ::close(fds[1]);
  ChildOutcome outcome;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    outcome.out.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  REQUIRE(::waitpid(pid, &outcome.wait_status, 0) == pid);
  return outcome;
}

bool ExitedZero(const ChildOutcome& o) {
  return WIFEXITED(o.wait_status) && WEXITSTATUS(o.wait_status) == 0;
}

std::string BuildError(const Seccomp& spec) {
  auto filter = SeccompFilter::Build(spec);
  REQUIRE_FALSE(filter.ok());
  return std::string(filter.status().message());
}

}  // namespace

TEST_CASE("seccomp: every name that cannot be resolved is an error naming its field") {
  Seccomp spec = Profile("SCMP_ACT_ALLOW", {Rule({"getcwd"}, "SCMP_ACT_ERRNO"),
                                            Rule({"getpid", "nosuchcall"}, "SCMP_ACT_ERRNO")});
  CHECK(BuildError(spec) == "linux.seccomp.syscalls[1].names: unknown syscall \"nosuchcall\"");
  CHECK(SeccompFilter::Build(spec).status().code() == absl::StatusCode::kInvalidArgument);

  // Even in a rule left out for having the default action.
  spec = Profile("SCMP_ACT_ALLOW", {Rule({"nosuchcall"}, "SCMP_ACT_ALLOW")});
  CHECK(BuildError(spec) == "linux.seccomp.syscalls[0].names: unknown syscall \"nosuchcall\"");

  spec = Profile("SCMP_ACT_ALLOW",
                 {Rule({"getcwd"}, "SCMP_ACT_ERRNO"), Rule({"getcwd"}, "SCMP_ACT_LOG"),
                  Rule({"mkdir"}, "SCMP_ACT_FOO")});
  CHECK(BuildError(spec) == "linux.seccomp.syscalls[2].action: unknown action \"SCMP_ACT_FOO\"");

  spec = Profile("SCMP_ACT_FOO", {});
  CHECK(BuildError(spec) == "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\"");
  spec = Profile("", {});
  CHECK(BuildError(spec) == "linux.seccomp.defaultAction: unknown action \"\"");

  spec = Profile("SCMP_ACT_ALLOW", {});
  spec.architectures = {"SCMP_ARCH_X86", "SCMP_ARCH_VAX"};
  CHECK(BuildError(spec) ==
        "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"");
  spec.architectures = {"x86_64"};
  CHECK(BuildError(spec) == "linux.seccomp.architectures[0]: unknown architecture \"x86_64\"");

  spec = Profile("SCMP_ACT_ALLOW", {Rule({"socket"}, "SCMP_ACT_ERRNO", std::nullopt,
                                         {{.index = 0, .value = 2, .op = "SCMP_CMP_EQ"},
                                          {.index = 1, .value = 1, .op = "SCMP_CMP_FOO"}})});
  CHECK(BuildError(spec) ==
        "linux.seccomp.syscalls[0].args[1].op: unknown operator \"SCMP_CMP_FOO\"");
  spec.syscalls[0].args = {{.index = 6, .value = 2, .op = "SCMP_CMP_EQ"}};
  CHECK(BuildError(spec) == "linux.seccomp.syscalls[0].args[0].index: 6 is out of range (0-5)");

  spec = Profile("SCMP_ACT_ALLOW", {});
  spec.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_FOO"};
  CHECK(BuildError(spec) == "linux.seccomp.flags[1]: unknown flag \"SECCOMP_FILTER_FLAG_FOO\"");

  spec = Profile("SCMP_ACT_ALLOW", {Rule({"getcwd"}, "SCMP_ACT_ERRNO", 70000)});
  CHECK(BuildError(spec) == "linux.seccomp.syscalls[0].errnoRet: 70000 is out of range (0-65535)");
  spec = Profile("SCMP_ACT_ERRNO", {});
  spec.default_errno_ret = 65536;
  CHECK(BuildError(spec) == "linux.seccomp.defaultErrnoRet: 65536 is out of range (0-65535)");
}

TEST_CASE("seccomp: SCMP_ACT_NOTIFY is refused as unimplemented") {
  Seccomp spec = Profile("SCMP_ACT_ALLOW", {Rule({"getcwd"}, "SCMP_ACT_NOTIFY")});
  spec.listener_path = "/run/listener.sock";
  auto filter = SeccompFilter::Build(spec);
  REQUIRE_FALSE(filter.ok());
  CHECK(filter.status().code() == absl::StatusCode::kUnimplemented);
  CHECK(filter.status().message() ==
        "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY (a seccomp user-space notifier) is "
        "not supported by berth-oci");
}

TEST_CASE("seccomp: an errno rule makes that syscall fail with that errno, others work") {
  auto filter = SeccompFilter::Build(Profile(
      "SCMP_ACT_ALLOW", {Rule({"getcwd"}, "SCMP_ACT_ERRNO", 38), Rule({"mkdir"}, "SCMP_ACT_ERRNO"),
                         Rule({"getpid"}, "SCMP_ACT_ALLOW")}));  // the default: left out
  REQUIRE(filter.ok());
  auto outcome = RunFiltered(*filter, [](int fd) {
    char cwd[4096];
    Report(fd, "getcwd", ::syscall(SYS_getcwd, cwd, sizeof cwd));
    // Without the filter: ENOENT.
    Report(fd, "mkdir", ::syscall(SYS_mkdir, "/nonexistent-berth-dir/x", 0700));
    Report(fd, "getpid", ::syscall(SYS_getpid));
    Report(fd, "getppid", ::syscall(SYS_getppid));
  });
  CHECK(ExitedZero(outcome));
  CHECK(outcome.out == "getcwd:38 mkdir:1 getpid:0 getppid:0 ");
}

TEST_CASE("seccomp: a default errno action with an allow-list, on three architectures") {
  Seccomp spec = Profile("SCMP_ACT_ERRNO",
                         {Rule({"write", "exit_group", "exit", "getpid"}, "SCMP_ACT_ALLOW"),
                          // Same action as the default: left out, not refused.
                          Rule({"getppid"}, "SCMP_ACT_ERRNO"),
                          // Known to libseccomp, absent from x86_64: left out there.
                          Rule({"chown32", "socketcall", "arm_fadvise64_64"}, "SCMP_ACT_ALLOW")});
  spec.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  auto filter = SeccompFilter::Build(spec);
  REQUIRE(filter.ok());
  auto outcome = RunFiltered(*filter, [](int fd) {
    Report(fd, "getpid", ::syscall(SYS_getpid));
    Report(fd, "getppid", ::syscall(SYS_getppid));
    Report(fd, "getuid", ::syscall(SYS_getuid));
  });
  CHECK(ExitedZero(outcome));
  CHECK(outcome.out == "getpid:0 getppid:1 getuid:1 ");

  spec.default_errno_ret = 38;
  filter = SeccompFilter::Build(spec);
  REQUIRE(filter.ok());
  outcome = RunFiltered(*filter, [](int fd) { Report(fd, "getuid", ::syscall(SYS_getuid)); });
  CHECK(outcome.out == "getuid:38 ");
}

TEST_CASE("seccomp: argument comparisons: AND across arguments, OR within one, masks") {
  auto filter = SeccompFilter::Build(
      Profile("SCMP_ACT_ALLOW",
              {// socket(AF_INET, ...) only.
               Rule({"socket"}, "SCMP_ACT_ERRNO", EACCES,
                    {{.index = 0, .value = AF_INET, .op = "SCMP_CMP_EQ"}}),
               // Two comparisons of argument 0: either one matches.
               Rule({"umask"}, "SCMP_ACT_ERRNO", EDOM,
                    {{.index = 0, .value = 022, .op = "SCMP_CMP_EQ"},
                     {.index = 0, .value = 077, .op = "SCMP_CMP_EQ"}}),
               // Arguments 0 and 1: both must match.
               Rule({"getpriority"}, "SCMP_ACT_ERRNO", ERANGE,
                    {{.index = 0, .value = PRIO_PROCESS, .op = "SCMP_CMP_EQ"},
                     {.index = 1, .value = 12345678, .op = "SCMP_CMP_EQ"}}),
               // (whence & 2) == 2: SEEK_END, not SEEK_SET or SEEK_CUR.
               Rule({"lseek"}, "SCMP_ACT_ERRNO", ENOTTY,
                    {{.index = 2, .value = 2, .value_two = 2, .op = "SCMP_CMP_MASKED_EQ"}})}));
  REQUIRE(filter.ok());
  auto outcome = RunFiltered(*filter, [](int fd) {
    long inet = ::syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    Report(fd, "inet", inet);
    long unix_socket = ::syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
    Report(fd, "unix", unix_socket);
    Report(fd, "umask022", ::syscall(SYS_umask, 022));
    Report(fd, "umask077", ::syscall(SYS_umask, 077));
    Report(fd, "umask027", ::syscall(SYS_umask, 027));
    Report(fd, "prio-match", ::syscall(SYS_getpriority, PRIO_PROCESS, 12345678));
    Report(fd, "prio-self", ::syscall(SYS_getpriority, PRIO_PROCESS, 0));
    Report(fd, "prio-pgrp", ::syscall(SYS_getpriority, PRIO_PGRP, 12345678));  // ESRCH
    int null_fd = ::open("/dev/null", O_RDONLY);
    Report(fd, "seek-set", ::syscall(SYS_lseek, null_fd, 0, SEEK_SET));
    Report(fd, "seek-cur", ::syscall(SYS_lseek, null_fd, 0, SEEK_CUR));
    Report(fd, "seek-end", ::syscall(SYS_lseek, null_fd, 0, SEEK_END));
  });
  CHECK(ExitedZero(outcome));
  CHECK(outcome.out ==
        "inet:13 unix:0 umask022:33 umask077:33 umask027:0 prio-match:34 prio-self:0 prio-pgrp:3 "
        "seek-set:0 seek-cur:0 seek-end:25 ");
}

TEST_CASE("seccomp: kill and trap actions end the process with SIGSYS") {
  for (const char* action :
       {"SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP"}) {
    INFO(action);
    auto filter = SeccompFilter::Build(Profile("SCMP_ACT_ALLOW", {Rule({"getcwd"}, action)}));
    REQUIRE(filter.ok());
    auto outcome = RunFiltered(*filter, [](int fd) {
      Put(fd, "before ");
      char cwd[4096];
      Report(fd, "getcwd", ::syscall(SYS_getcwd, cwd, sizeof cwd));
    });
    CHECK(outcome.out == "before ");
    CHECK(WIFSIGNALED(outcome.wait_status));
    CHECK(WTERMSIG(outcome.wait_status) == SIGSYS);
  }
}

TEST_CASE("seccomp: SCMP_ACT_LOG and SCMP_ACT_TRACE") {
  // LOG allows (and logs); TRACE without a tracer fails the call with ENOSYS
  // whatever errnoRet says (the kernel's rule).
  auto filter = SeccompFilter::Build(Profile(
      "SCMP_ACT_ALLOW", {Rule({"getppid"}, "SCMP_ACT_LOG"), Rule({"getcwd"}, "SCMP_ACT_TRACE")}));
  REQUIRE(filter.ok());
  auto outcome = RunFiltered(*filter, [](int fd) {
    char cwd[4096];
    Report(fd, "getppid", ::syscall(SYS_getppid));
    Report(fd, "getcwd", ::syscall(SYS_getcwd, cwd, sizeof cwd));
  });
  CHECK(ExitedZero(outcome));
  CHECK(outcome.out == "getppid:0 getcwd:38 ");
}

TEST_CASE("seccomp: filter flags are applied") {
  Seccomp spec = Profile("SCMP_ACT_ALLOW", {Rule({"getcwd"}, "SCMP_ACT_ERRNO", 38)});
  spec.flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  auto filter = SeccompFilter::Build(spec);
  REQUIRE(filter.ok());
  auto outcome = RunFiltered(*filter, [](int fd) {
    char cwd[4096];
    Report(fd, "getcwd", ::syscall(SYS_getcwd, cwd, sizeof cwd));
  });
  CHECK(ExitedZero(outcome));
  CHECK(outcome.out == "getcwd:38 ");
}

TEST_CASE("seccomp: loading without no_new_privs needs CAP_SYS_ADMIN") {
  auto filter =
      SeccompFilter::Build(Profile("SCMP_ACT_ALLOW", {Rule({"getcwd"}, "SCMP_ACT_ERRNO")}));
  REQUIRE(filter.ok());
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    cap_t caps = cap_get_proc();
    const cap_value_t sys_admin = CAP_SYS_ADMIN;
    if (caps == nullptr || cap_set_flag(caps, CAP_EFFECTIVE, 1, &sys_admin, CAP_CLEAR) != 0 ||
        cap_set_proc(caps) != 0) {
      ::_exit(2);
    }
    Put(fds[1], std::string(filter->Load().message()).c_str());
    ::_exit(0);
  }
  ::close(fds[1]);
  char buf[256] = {};
  ssize_t n = ::read(fds[0], buf, sizeof buf - 1);
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0) ==
        "load seccomp filter: Permission denied");
}

TEST_CASE("seccomp: a moved-from filter cannot be loaded") {
  auto filter = SeccompFilter::Build(Profile("SCMP_ACT_ALLOW", {}));
  REQUIRE(filter.ok());
  SeccompFilter moved = std::move(*filter);
  CHECK(filter->Load().code() == absl::StatusCode::kFailedPrecondition);
  auto other = SeccompFilter::Build(Profile("SCMP_ACT_LOG", {}));
  REQUIRE(other.ok());
  moved = std::move(*other);  // releases the first context
}

TEST_CASE("seccomp: a Docker-sized profile on three architectures builds and loads") {
  // Docker's default allow-list, as moby ships it (names only).
  const char* kNames =
      "accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32 "
      "clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime "
      "clock_gettime64 clock_nanosleep clock_nanosleep_time64 close close_range connect "
      "copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old "
      "epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit "
      "exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir "
      "fchmod fchmodat fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr "
      "flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync "
      "ftruncate ftruncate64 futex futex_time64 futex_waitv futimesat getcpu getcwd getdents "
      "getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 "
      "getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid "
      "getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid getsockname "
      "getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr inotify_add_watch "
      "inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents "
      "io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit "
      "io_uring_enter io_uring_register io_uring_setup ipc kill landlock_add_rule "
      "landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat "
      "listen listxattr llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise "
      "membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 "
      "mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive "
      "mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl msgget "
      "msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep newfstatat "
      "_newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc "
      "pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 "
      "process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readahead "
      "readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg "
      "remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir rseq "
      "rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend "
      "rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr "
      "sched_getparam sched_get_priority_max sched_get_priority_min sched_getscheduler "
      "sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr "
      "sched_setparam sched_setscheduler sched_yield seccomp select semctl semget semop "
      "semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid "
      "setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid "
      "setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid "
      "setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address "
      "setuid setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd "
      "signalfd4 sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs statfs64 "
      "statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create "
      "timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime "
      "timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime "
      "timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat "
      "utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev "
      "arch_prctl modify_ldt";
  std::vector<std::string> names;
  std::istringstream in(kNames);
  for (std::string name; in >> name;) names.push_back(name);
  REQUIRE(names.size() > 300);

  Seccomp spec = Profile("SCMP_ACT_ERRNO", {Rule(names, "SCMP_ACT_ALLOW")});
  spec.default_errno_ret = EPERM;
  spec.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  spec.syscalls.push_back(Rule({"socket"}, "SCMP_ACT_ALLOW", std::nullopt,
                               {{.index = 0, .value = 40, .op = "SCMP_CMP_NE"}}));
  for (uint64_t persona : {0x0ull, 0x8ull, 0x20000ull, 0x20008ull, 0xffffffffull}) {
    spec.syscalls.push_back(Rule({"personality"}, "SCMP_ACT_ALLOW", std::nullopt,
                                 {{.index = 0, .value = persona, .op = "SCMP_CMP_EQ"}}));
  }
  spec.syscalls.push_back(Rule({"clone"}, "SCMP_ACT_ALLOW", std::nullopt,
                               {{.index = 0, .value = 0x7e020000, .op = "SCMP_CMP_MASKED_EQ"}}));
  spec.syscalls.push_back(Rule({"clone3"}, "SCMP_ACT_ERRNO", ENOSYS));

  auto filter = SeccompFilter::Build(spec);
  REQUIRE(filter.ok());
  auto outcome = RunFiltered(*filter, [](int fd) {
    Report(fd, "getpid", ::syscall(SYS_getpid));
    Report(fd, "unshare", ::syscall(SYS_unshare, 0));
    Report(fd, "clone3", ::syscall(SYS_clone3, nullptr, 0));
    Report(fd, "vsock", ::syscall(SYS_socket, 40, SOCK_STREAM, 0));
    Report(fd, "persona", ::syscall(SYS_personality, 0xffffffffUL));
  });
  CHECK(ExitedZero(outcome));
  CHECK(outcome.out == "getpid:0 unshare:1 clone3:38 vsock:1 persona:0 ");
}

TEST_CASE("seccomp: a filter longer than the kernel takes is refused when built") {
  SeccompSyscall rule = Rule({"umask"}, "SCMP_ACT_ERRNO");
  // One comparison is one instruction or two; libseccomp is slow to compile
  // long filters (superlinear), hence a single architecture.
  for (uint64_t mode = 0; mode < 4100; ++mode) {
    rule.args.push_back({.index = 0, .value = mode, .op = "SCMP_CMP_EQ"});
  }
  auto filter = SeccompFilter::Build(Profile("SCMP_ACT_ALLOW", {rule}));
  REQUIRE_FALSE(filter.ok());
  CHECK(filter.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(filter.status().message()),
             Catch::Matches("linux\\.seccomp: the filter compiles to [0-9]+ BPF instructions, more "
                            "than the kernel's limit of 4096"));
}

namespace {

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    names.push_back(e.path().filename().string());
  }
  return names;
}

}  // namespace

TEST_CASE("seccomp: a compiled filter is cached and reused only for the same filter") {
  char tmpl[] = "/tmp/berth-seccomp-cache-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string root = tmpl;
  const std::string cache = root + "/cache";
  auto errno_profile = [](uint32_t err) {
    return Profile("SCMP_ACT_ALLOW", {Rule({"getcwd"}, "SCMP_ACT_ERRNO", err)});
  };
  auto getcwd_result = [](SeccompFilter& filter) {
    return RunFiltered(filter,
                       [](int fd) {
                         char cwd[4096];
                         Report(fd, "getcwd", ::syscall(SYS_getcwd, cwd, sizeof cwd));
                       })
        .out;
  };

  auto first = SeccompFilter::Build(errno_profile(38), cache);
  REQUIRE(first.ok());
  REQUIRE(ListDir(cache).size() == 1);
  const std::string file = cache + "/" + ListDir(cache).front();
  auto again = SeccompFilter::Build(errno_profile(38), cache);
  REQUIRE(again.ok());
  CHECK(again->InstructionCount() == first->InstructionCount());
  CHECK(getcwd_result(*again) == "getcwd:38 ");

  // Another errno is another filter: compiled, cached beside the first.
  auto other = SeccompFilter::Build(errno_profile(13), cache);
  REQUIRE(other.ok());
  CHECK(getcwd_result(*other) == "getcwd:13 ");
  CHECK(ListDir(cache).size() == 2);

  // A cache file holding another filter under this name (a name collision)
  // is not used: the filter is compiled and the file rewritten.
  const std::string other_file = [&] {
    for (const std::string& n : ListDir(cache)) {
      if (cache + "/" + n != file) return cache + "/" + n;
    }
    return std::string();
  }();
  REQUIRE(::rename(other_file.c_str(), file.c_str()) == 0);
  auto collided = SeccompFilter::Build(errno_profile(38), cache);
  REQUIRE(collided.ok());
  CHECK(getcwd_result(*collided) == "getcwd:38 ");

  // A truncated file is not used either.
  REQUIRE(::truncate(file.c_str(), 20) == 0);
  auto truncated = SeccompFilter::Build(errno_profile(38), cache);
  REQUIRE(truncated.ok());
  CHECK(getcwd_result(*truncated) == "getcwd:38 ");

  // An unwritable cache directory only costs the compile.
  auto no_cache = SeccompFilter::Build(errno_profile(38), root + "/missing/parent/cache");
  REQUIRE(no_cache.ok());
  CHECK(getcwd_result(*no_cache) == "getcwd:38 ");
  std::filesystem::remove_all(root);
}
