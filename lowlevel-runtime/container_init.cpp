#include "lowlevel-runtime/container_init.h"

#include <linux/close_range.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "lowlevel-runtime/console.h"
#include "lowlevel-runtime/container_state.h"
#include "lowlevel-runtime/hooks.h"
#include "lowlevel-runtime/privileges.h"
#include "lowlevel-runtime/process_setup.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

namespace berth::oci {
namespace {

// The state JSON hooks that run inside the container receive.
Json HookState(const InitContext& ctx, absl::string_view status) {
  return {{"ociVersion", ctx.spec->oci_version},
          {"id", ctx.id},
          {"status", std::string(status)},
          {"pid", ctx.host_pid},
          {"bundle", ctx.bundle},
          {"annotations", ctx.spec->annotations}};
}

absl::Status SetUpContainer(InitContext& ctx, std::string* executable) {
  const Spec& spec = *ctx.spec;
  const Process& process = *spec.process;
  BERTH_ASSIGN_OR_RETURN(std::string host_pid, ctx.sync->Receive(SyncMessage::kGo));
  ctx.host_pid = std::atoi(host_pid.c_str());

  BERTH_RETURN_IF_ERROR(JoinNamespaces(*ctx.namespaces, /*skip_pid=*/true));
  if (ctx.rootfs.in_user_ns) {
    // Become root of the user namespace (our host uid is not mapped in it):
    // files we create must have an owner the namespace can represent.
    if (::setresgid(0, 0, 0) != 0) return LastErrnoError("setgid to 0 in the user namespace");
    if (::setresuid(0, 0, 0) != 0) return LastErrnoError("setuid to 0 in the user namespace");
  }
  // Unshared only now that the parent has put us in the container's cgroup, so
  // the namespace's root is that cgroup.
  if (ctx.new_cgroup_ns && ::unshare(CLONE_NEWCGROUP) != 0) {
    return LastErrnoError("unshare the cgroup namespace");
  }
  if (ctx.namespaces->new_time && ::unshare(CLONE_NEWTIME) != 0) {
    return LastErrnoError("unshare the time namespace");
  }

  UniqueFd console;
  if (process.terminal) {
    if (ctx.console_socket.empty()) {
      return absl::InvalidArgumentError(
          "process.terminal is true but no --console-socket was given");
    }
    BERTH_ASSIGN_OR_RETURN(console, ConnectConsoleSocket(ctx.console_socket));
  }

  if (ctx.namespaces->has_mount_ns) BERTH_RETURN_IF_ERROR(PrepareRootfs(spec, ctx.rootfs));
  if (ctx.namespaces->has_uts_ns) {
    if (!spec.hostname.empty() && ::sethostname(spec.hostname.data(), spec.hostname.size()) != 0) {
      return LastErrnoError("sethostname");
    }
    if (!spec.domainname.empty() &&
        ::setdomainname(spec.domainname.data(), spec.domainname.size()) != 0) {
      return LastErrnoError("setdomainname");
    }
  } else if (!spec.hostname.empty()) {
    return absl::InvalidArgumentError("hostname: requires a new uts namespace");
  }

  if (ctx.hooks_handshake) {
    BERTH_RETURN_IF_ERROR(ctx.sync->Send(SyncMessage::kRunHooks));
    BERTH_RETURN_IF_ERROR(ctx.sync->Expect(SyncMessage::kHooksDone));
    BERTH_RETURN_IF_ERROR(
        RunHooks(spec.hooks.create_container, HookState(ctx, "created"), "createContainer"));
  }

  if (ctx.namespaces->has_mount_ns) {
    BERTH_RETURN_IF_ERROR(EnterRootfs(ctx.rootfs));
    BERTH_RETURN_IF_ERROR(FinalizeRootfs(spec));
  } else {
    BERTH_RETURN_IF_ERROR(ChrootOnly(ctx.rootfs));
  }

  if (::setsid() < 0) return LastErrnoError("setsid");
  if (console) {
    BERTH_RETURN_IF_ERROR(SetupConsole(console.Get(), process.console_size));
    console.Reset();
  }

  // The cwd is resolved after the root changed, so it cannot name a host path;
  // getcwd confirms it is reachable from the new root (CVE-2024-21626).
  if (::chdir(process.cwd.c_str()) != 0) {
    return LastErrnoError(absl::StrCat("chdir to process.cwd ", process.cwd));
  }
  char cwd[4096];
  if (::getcwd(cwd, sizeof cwd) == nullptr || cwd[0] != '/') {
    return absl::PermissionDeniedError(
        absl::StrCat("process.cwd ", process.cwd, " is outside the container root"));
  }

  BERTH_ASSIGN_OR_RETURN(*executable, FindExecutable(process.args[0], process.env));

  BERTH_RETURN_IF_ERROR(ApplyRlimits(process.rlimits));
  if (process.oom_score_adj) BERTH_RETURN_IF_ERROR(SetOomScoreAdj(*process.oom_score_adj));
  if (!ctx.no_new_keyring) {
    std::string name = absl::StrCat("_ses.", ctx.id);
    // A private session keyring; kernels or sandboxes without keyrings are fine.
    if (::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.c_str()) < 0 && errno != ENOSYS &&
        errno != EACCES && errno != EPERM) {
      return LastErrnoError("join a session keyring");
    }
  }

  return DropToProcessPrivileges(process, *ctx.seccomp, ctx.preserve_fds);
}

}  // namespace

void RunContainerInit(InitContext& ctx) {
  ResetSignals();
  std::string executable;
  absl::Status st = SetUpContainer(ctx, &executable);
  if (!st.ok()) {
    ctx.sync->SendError(st);
    ::_exit(1);
  }
  if (!ctx.sync->Send(SyncMessage::kReady).ok()) ::_exit(1);
  ctx.sync->Close();

  // Wait for `start`.
  char byte;
  ssize_t n;
  do {
    n = ::read(ctx.exec_fifo_fd, &byte, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(1);
  ::close(ctx.exec_fifo_fd);

  const Process& process = *ctx.spec->process;
  st = RunHooks(ctx.spec->hooks.start_container, HookState(ctx, "running"), "startContainer");
  if (st.ok() && ctx.seccomp->has_value() && SeccompLoadsLate(process)) {
    st = (*ctx.seccomp)->Load();
  }
  if (st.ok()) {
    std::vector<char*> argv;
    for (const std::string& a : process.args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const std::string& e : process.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    ::execve(executable.c_str(), argv.data(), envp.data());
    st = LastErrnoError(absl::StrCat("exec ", executable));
  }
  std::string line = absl::StrCat("berth-oci: ", st.message(), "\n");
  (void)!::write(STDERR_FILENO, line.data(), line.size());
  ::_exit(127);
}

}  // namespace berth::oci
