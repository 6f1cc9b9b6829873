// `exec`: run another process in a running container: join its namespaces and
// cgroup, then the same credentials, seccomp and capability steps as its init.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fd_util.h"
#include "common/json.h"
#include "common/process.h"
#include "common/status.h"
#include "lowlevel-runtime/cgroups/cgroup.h"
#include "lowlevel-runtime/commands.h"
#include "lowlevel-runtime/console.h"
#include "lowlevel-runtime/container_state.h"
#include "lowlevel-runtime/namespaces.h"
#include "lowlevel-runtime/privileges.h"
#include "lowlevel-runtime/process_setup.h"
#include "lowlevel-runtime/security/capabilities.h"
#include "lowlevel-runtime/sync_channel.h"

namespace berth::oci {
namespace {

// The process to run: --process, or the container's own process with the
// command line's arguments and overrides, as runc builds it.
absl::StatusOr<Process> BuildProcess(const Spec& spec, const ExecOptions& o) {
  if (!o.process_path.empty()) {
    BERTH_ASSIGN_OR_RETURN(Json json, ReadJsonFile(o.process_path));
    return ParseProcess(json, "process");
  }
  if (o.args.empty()) return absl::InvalidArgumentError("exec: no command given");
  Process p = spec.process.value_or(Process{});
  p.args = o.args;
  p.terminal = o.tty;
  p.console_size.reset();
  p.oom_score_adj.reset();
  for (const std::string& e : o.env) p.env.push_back(e);
  if (!o.cwd.empty()) p.cwd = o.cwd;
  if (!o.user.empty()) {
    std::vector<std::string> ids = absl::StrSplit(o.user, ':');
    uint32_t uid = 0, gid = 0;
    if (ids.size() > 2 || !absl::SimpleAtoi(ids[0], &uid) ||
        (ids.size() == 2 && !absl::SimpleAtoi(ids[1], &gid))) {
      return absl::InvalidArgumentError(
          absl::StrCat("--user: \"", o.user, "\" is not uid[:gid] (numbers)"));
    }
    p.user.uid = uid;
    p.user.gid = gid;
  }
  if (!o.additional_gids.empty()) p.user.additional_gids = o.additional_gids;
  if (!o.caps.empty()) {
    if (!p.capabilities) p.capabilities = Capabilities{};
    for (auto* set :
         {&p.capabilities->bounding, &p.capabilities->effective, &p.capabilities->permitted,
          &p.capabilities->inheritable, &p.capabilities->ambient}) {
      set->insert(set->end(), o.caps.begin(), o.caps.end());
    }
  }
  if (o.no_new_privs) p.no_new_privileges = true;
  return p;
}

struct ExecChild {
  const Process* process;
  std::vector<NamespacePlan::Join>* joins;
  SyncChannel* sync;
  std::optional<SeccompFilter>* seccomp;
  std::string console_socket;
  int preserve_fds;
};

absl::Status PrepareExecChild(ExecChild& c, std::string* executable) {
  const Process& p = *c.process;
  BERTH_RETURN_IF_ERROR(c.sync->Expect(SyncMessage::kGo));
  UniqueFd console;
  if (p.terminal) {
    BERTH_ASSIGN_OR_RETURN(console, ConnectConsoleSocket(c.console_socket));
  }
  // User first (it governs the rest), mount last (it moves our root and cwd).
  for (int pass = 0; pass < 3; ++pass) {
    for (auto& join : *c.joins) {
      int order = join.flag == CLONE_NEWUSER ? 0 : join.flag == CLONE_NEWNS ? 2 : 1;
      if (order != pass || join.flag == CLONE_NEWPID) continue;
      if (::setns(join.fd.Get(), join.flag) != 0) {
        return LastErrnoError(absl::StrCat("join the container's ", join.type, " namespace"));
      }
    }
  }
  if (::setsid() < 0) return LastErrnoError("setsid");
  if (console) BERTH_RETURN_IF_ERROR(SetupConsole(console.Get(), p.console_size));
  if (::chdir(p.cwd.c_str()) != 0) return LastErrnoError(absl::StrCat("chdir to ", p.cwd));
  BERTH_ASSIGN_OR_RETURN(*executable, FindExecutable(p.args[0], p.env));
  BERTH_RETURN_IF_ERROR(ApplyRlimits(p.rlimits));
  return DropToProcessPrivileges(p, *c.seccomp, c.preserve_fds);
}

[[noreturn]] void RunExecChild(ExecChild& c) {
  std::string executable;
  absl::Status st = PrepareExecChild(c, &executable);
  if (st.ok() && c.seccomp->has_value() && SeccompLoadsLate(*c.process)) {
    st = (*c.seccomp)->Load();
  }
  if (st.ok()) {
    std::vector<char*> argv, envp;
    for (const std::string& a : c.process->args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const std::string& e : c.process->env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    // The sync socket is close-on-exec: the parent sees EOF once exec succeeded.
    ::execve(executable.c_str(), argv.data(), envp.data());
    st = LastErrnoError(absl::StrCat("exec ", executable));
  }
  c.sync->SendError(st);
  ::_exit(127);
}

}  // namespace

absl::StatusOr<int> Exec(const GlobalOptions& global, const ExecOptions& options) {
  BERTH_ASSIGN_OR_RETURN(ContainerState state, LoadState(global.root, options.id));
  Status status = CurrentStatus(global.root, state);
  if (status == Status::kStopped) {
    return absl::FailedPreconditionError("cannot exec in a stopped container");
  }
  if (status == Status::kPaused) {
    return absl::FailedPreconditionError("cannot exec in a paused container");
  }
  BERTH_ASSIGN_OR_RETURN(Spec spec, ParseSpec(DumpJson(state.config), "config.json"));
  BERTH_ASSIGN_OR_RETURN(Process process, BuildProcess(spec, options));
  if (process.capabilities) BERTH_RETURN_IF_ERROR(ValidateCapabilities(*process.capabilities));
  BERTH_RETURN_IF_ERROR(ValidateRlimits(process.rlimits));
  if (process.terminal && options.console_socket.empty()) {
    return absl::InvalidArgumentError("cannot allocate tty without --console-socket");
  }
  std::optional<SeccompFilter> seccomp;
  if (spec.linux.seccomp) {
    BERTH_ASSIGN_OR_RETURN(SeccompFilter filter,
                           SeccompFilter::Build(*spec.linux.seccomp, SeccompCacheDir(global.root)));
    seccomp.emplace(std::move(filter));
  }

  // Every namespace of the container, through its init.
  std::vector<NamespacePlan::Join> joins;
  for (const Namespace& ns : spec.linux.namespaces) {
    BERTH_ASSIGN_OR_RETURN(int flag, NamespaceFlag(ns.type));
    static const std::map<std::string, std::string> kProcName = {
        {"pid", "pid"}, {"network", "net"}, {"mount", "mnt"},     {"ipc", "ipc"},
        {"uts", "uts"}, {"user", "user"},   {"cgroup", "cgroup"}, {"time", "time"}};
    std::string path = absl::StrCat("/proc/", state.pid, "/ns/", kProcName.at(ns.type));
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDONLY));
    joins.push_back({flag, ns.type, std::move(fd)});
  }
  // The container might have stopped (and its pid been reused) since we looked.
  if (!InitAlive(state)) return absl::FailedPreconditionError("cannot exec in a stopped container");
  for (auto& join : joins) {
    if (join.flag == CLONE_NEWPID && ::setns(join.fd.Get(), CLONE_NEWPID) != 0) {
      return LastErrnoError("join the container's pid namespace");
    }
  }
  BERTH_ASSIGN_OR_RETURN(auto cgroup, OpenContainerCgroup(state));
  BERTH_ASSIGN_OR_RETURN(auto channels, SyncChannel::MakePair());

  sigset_t forwarded;
  ::sigemptyset(&forwarded);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD}) {
    ::sigaddset(&forwarded, sig);
  }
  // Without --detach, block the forwarded signals before the process exists so
  // none is lost (the child resets its signals before exec).
  if (!options.detach) ::sigprocmask(SIG_BLOCK, &forwarded, nullptr);

  unsigned long flags = SIGCHLD | (options.detach ? CLONE_PARENT : 0);
  pid_t pid = static_cast<pid_t>(::syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr));
  if (pid < 0) return LastErrnoError("clone");
  if (pid == 0) {
    channels.first.Close();
    ResetSignals();
    ExecChild child{
        &process, &joins, &channels.second, &seccomp, options.console_socket, options.preserve_fds};
    RunExecChild(child);
  }
  channels.second.Close();
  SyncChannel& sync = channels.first;
  ChildProcess guard(pid);  // killed and reaped on any error below
  if (absl::Status st = cgroup->AddProcess(pid); !st.ok()) {
    sync.SendError(st);
    if (options.detach) guard.Detach();
    return st;
  }
  BERTH_RETURN_IF_ERROR(sync.Send(SyncMessage::kGo));
  // EOF: the exec succeeded (the socket closed with it). A message: it failed.
  absl::Status exec_status = sync.Expect(SyncMessage::kReady);
  if (exec_status.code() != absl::StatusCode::kAborted) {
    if (options.detach) {
      ::kill(pid, SIGKILL);
      guard.Detach();
    }
    return exec_status.ok() ? absl::InternalError("exec: unexpected message") : exec_status;
  }
  if (!options.pid_file.empty()) {
    BERTH_RETURN_IF_ERROR(
        WriteFileAtomic(options.pid_file, std::to_string(pid), 0644, Durability::kNoFsync));
  }
  if (options.detach) {
    guard.Detach();
    return 0;
  }
  for (;;) {
    int wstatus = 0;
    pid_t r = ::waitpid(pid, &wstatus, WNOHANG);
    if (r == pid) {
      guard.Detach();
      return ExitCodeFromWaitStatus(wstatus);
    }
    if (r < 0 && errno != EINTR) return LastErrnoError("wait for the exec'd process");
    int sig = 0;
    if (::sigwait(&forwarded, &sig) == 0 && sig != SIGCHLD) ::kill(pid, sig);
  }
}

}  // namespace berth::oci
