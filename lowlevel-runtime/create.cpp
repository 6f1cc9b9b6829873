// `create`: build the container and leave its init blocked on the exec fifo.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/container_id.h"
#include "common/fd_util.h"
#include "common/log.h"
#include "common/oci/runtime_spec.h"
#include "common/status.h"
#include "lowlevel-runtime/cgroups/cgroup.h"
#include "lowlevel-runtime/cgroups/no_cgroup.h"
#include "lowlevel-runtime/commands.h"
#include "lowlevel-runtime/container_init.h"
#include "lowlevel-runtime/container_state.h"
#include "lowlevel-runtime/devices.h"
#include "lowlevel-runtime/hooks.h"
#include "lowlevel-runtime/namespaces.h"
#include "lowlevel-runtime/process_setup.h"
#include "lowlevel-runtime/security/capabilities.h"
#include "lowlevel-runtime/security/seccomp.h"
#include "lowlevel-runtime/sync_channel.h"

namespace berth::oci {
namespace {

bool IsPermissionError(const absl::Status& status) {
  int err = ErrnoOf(status);
  return err == EACCES || err == EPERM || err == EROFS;
}

// The container's cgroup, created with resources applied. A rootless caller
// that may not write the hierarchy (no delegation) gets a container without a
// cgroup, with a warning, as long as the spec asks for no limits; with limits
// that is an error, as in runc.
absl::StatusOr<std::unique_ptr<Cgroup>> CreateCgroup(const Spec& spec, const std::string& id,
                                                     const Resources& resources) {
  BERTH_ASSIGN_OR_RETURN(std::unique_ptr<Cgroup> cgroup, OpenCgroup(spec.linux.cgroups_path, id));
  absl::Status created = cgroup->Create(&resources);
  if (created.ok()) return cgroup;
  if (::geteuid() == 0 || !IsPermissionError(created)) return created;
  if (HasResourceLimits(resources)) {
    return Annotate(created,
                    "rootless container with resource limits needs a writable "
                    "(delegated) cgroup");
  }
  LogWarn("rootless: no cgroup for container {}: {}", id, created.message());
  return std::make_unique<NoCgroup>(0);
}

absl::StatusOr<std::string> RealPath(const std::string& path, absl::string_view what) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) {
    return LastErrnoError(absl::StrCat(what, " ", path));
  }
  return std::string(resolved);
}

// Everything in the spec that can be checked before building anything.
absl::Status ValidateSpec(const Spec& spec) {
  if (!spec.process) return absl::InvalidArgumentError("process: missing");
  if (spec.process->capabilities) {
    BERTH_RETURN_IF_ERROR(ValidateCapabilities(*spec.process->capabilities));
  }
  BERTH_RETURN_IF_ERROR(ValidateRlimits(spec.process->rlimits));
  return absl::OkStatus();
}

pid_t CloneInit(int flags) {
  // fork-like clone: the child continues on a copy of our stack.
  return static_cast<pid_t>(::syscall(SYS_clone, static_cast<unsigned long>(flags) | SIGCHLD,
                                      nullptr, nullptr, nullptr, nullptr));
}

}  // namespace

absl::StatusOr<pid_t> Create(const GlobalOptions& global, const CreateOptions& options) {
  BERTH_RETURN_IF_ERROR(ValidateContainerId(options.id));
  BERTH_ASSIGN_OR_RETURN(std::string bundle, RealPath(options.bundle, "bundle"));
  BERTH_ASSIGN_OR_RETURN(Spec spec, LoadSpec(bundle + "/config.json"));
  BERTH_RETURN_IF_ERROR(ValidateSpec(spec));
  std::string rootfs_path =
      spec.root.path[0] == '/' ? spec.root.path : absl::StrCat(bundle, "/", spec.root.path);
  BERTH_ASSIGN_OR_RETURN(std::string rootfs, RealPath(rootfs_path, "root.path"));
  if (!std::filesystem::is_directory(rootfs)) {
    return absl::InvalidArgumentError(absl::StrCat("root.path: ", rootfs, " is not a directory"));
  }
  if (options.preserve_fds < 0) {
    return absl::InvalidArgumentError("--preserve-fds: must not be negative");
  }
  std::optional<SeccompFilter> seccomp;
  if (spec.linux.seccomp) {
    BERTH_ASSIGN_OR_RETURN(SeccompFilter filter,
                           SeccompFilter::Build(*spec.linux.seccomp, SeccompCacheDir(global.root)));
    seccomp.emplace(std::move(filter));
  }
  BERTH_ASSIGN_OR_RETURN(NamespacePlan namespaces, PlanNamespaces(spec.linux));
  if (spec.process->terminal && options.console_socket.empty()) {
    return absl::InvalidArgumentError("process.terminal is set but no --console-socket was given");
  }
  if (!spec.process->terminal && !options.console_socket.empty()) {
    return absl::InvalidArgumentError("--console-socket given but process.terminal is not set");
  }

  // The state directory: its creation is what makes the id taken.
  if (::mkdir(global.root.c_str(), 0711) != 0 && errno != EEXIST) {
    std::error_code ec;
    std::filesystem::create_directories(global.root, ec);
    if (ec) return ErrnoError(ec.value(), absl::StrCat("create root directory ", global.root));
  }
  std::string state_dir = StateDir(global.root, options.id);
  if (::mkdir(state_dir.c_str(), 0711) != 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(absl::StrCat("container with id exists: ", options.id));
    }
    return LastErrnoError(absl::StrCat("create state directory ", state_dir));
  }
  std::unique_ptr<Cgroup> cgroup;
  pid_t init_pid = -1;
  auto undo = absl::MakeCleanup([&] {
    if (init_pid > 0) {
      ::kill(init_pid, SIGKILL);
      // Our own child (run): reap it. A CLONE_PARENT init is our caller's to reap.
      if (!options.init_is_callers_child) ::waitpid(init_pid, nullptr, 0);
    }
    if (cgroup) {
      // The killed init leaves the cgroup asynchronously; retry briefly.
      for (int i = 0; i < 50 && !cgroup->Destroy().ok(); ++i) ::usleep(2000);
    }
    std::error_code ec;
    std::filesystem::remove_all(state_dir, ec);
  });

  ContainerState state;
  state.id = options.id;
  state.bundle = bundle;
  state.rootfs = rootfs;
  state.created = NowRfc3339Nano();
  state.annotations = spec.annotations;
  state.cgroups_path = spec.linux.cgroups_path;
  state.creating = true;
  BERTH_ASSIGN_OR_RETURN(state.config, ReadJsonFile(bundle + "/config.json"));
  BERTH_RETURN_IF_ERROR(SaveState(global.root, state));

  std::string fifo = ExecFifoPath(global.root, options.id);
  if (::mkfifo(fifo.c_str(), 0600) != 0) return LastErrnoError(absl::StrCat("mkfifo ", fifo));
  // O_RDWR: opening does not block, and the init holds a reader that `start` can find.
  BERTH_ASSIGN_OR_RETURN(UniqueFd fifo_fd, OpenFile(fifo, O_RDWR));

  Resources resources = EffectiveResources(spec);
  BERTH_ASSIGN_OR_RETURN(cgroup, CreateCgroup(spec, options.id, resources));
  state.without_cgroup = cgroup->Paths().empty();

  BERTH_ASSIGN_OR_RETURN(auto channels, SyncChannel::MakePair());
  SyncChannel& parent_end = channels.first;
  SyncChannel& init_end = channels.second;

  // A pid namespace applies to children only: join it here, before clone.
  for (auto& join : namespaces.joins) {
    if (join.type == "pid" && ::setns(join.fd.Get(), CLONE_NEWPID) != 0) {
      return LastErrnoError("join pid namespace");
    }
  }
  bool new_cgroup_ns = (namespaces.clone_flags & CLONE_NEWCGROUP) != 0;
  int clone_flags = namespaces.clone_flags & ~CLONE_NEWCGROUP;
  if (options.init_is_callers_child) clone_flags |= CLONE_PARENT;
  const Hooks& hooks = spec.hooks;
  bool hooks_handshake =
      !hooks.prestart.empty() || !hooks.create_runtime.empty() || !hooks.create_container.empty();

  init_pid = CloneInit(clone_flags);
  if (init_pid < 0) {
    init_pid = -1;
    return LastErrnoError("clone the container init");
  }
  if (init_pid == 0) {
    parent_end.Close();
    InitContext ctx;
    ctx.spec = &spec;
    ctx.id = options.id;
    ctx.bundle = bundle;
    ctx.namespaces = &namespaces;
    ctx.rootfs = {.rootfs = rootfs,
                  .no_pivot = options.no_pivot,
                  .in_user_ns = namespaces.new_user ||
                                std::any_of(namespaces.joins.begin(), namespaces.joins.end(),
                                            [](const auto& j) { return j.type == "user"; }),
                  .cgroup_ns = new_cgroup_ns};
    ctx.sync = &init_end;
    ctx.exec_fifo_fd = fifo_fd.Get();
    ctx.seccomp = &seccomp;
    ctx.console_socket = options.console_socket;
    ctx.preserve_fds = options.preserve_fds;
    ctx.no_new_keyring = options.no_new_keyring;
    ctx.hooks_handshake = hooks_handshake;
    ctx.new_cgroup_ns = new_cgroup_ns;
    RunContainerInit(ctx);
  }
  init_end.Close();
  fifo_fd.Reset();

  auto fail = [&](const absl::Status& st) {
    parent_end.SendError(st);
    return st;
  };
  if (namespaces.new_user) {
    if (absl::Status st = WriteIdMappings(init_pid, spec.linux); !st.ok()) return fail(st);
  }
  if (absl::Status st = cgroup->AddProcess(init_pid); !st.ok()) return fail(st);
  state.pid = init_pid;
  state.pid_start_time = ProcessStartTime(init_pid);
  // The init's pid as the host sees it, for the hooks it runs.
  BERTH_RETURN_IF_ERROR(parent_end.Send(SyncMessage::kGo, std::to_string(init_pid)));

  if (hooks_handshake) {
    BERTH_RETURN_IF_ERROR(parent_end.Expect(SyncMessage::kRunHooks));
    Json hook_state = StateJson(state, Status::kCreating);
    if (absl::Status st = RunHooks(hooks.prestart, hook_state, "prestart"); !st.ok()) {
      return fail(st);
    }
    if (absl::Status st = RunHooks(hooks.create_runtime, hook_state, "createRuntime"); !st.ok()) {
      return fail(st);
    }
    BERTH_RETURN_IF_ERROR(parent_end.Send(SyncMessage::kHooksDone));
  }
  BERTH_RETURN_IF_ERROR(parent_end.Expect(SyncMessage::kReady));

  state.creating = false;
  BERTH_RETURN_IF_ERROR(SaveState(global.root, state));
  if (!options.pid_file.empty()) {
    BERTH_RETURN_IF_ERROR(
        WriteFileAtomic(options.pid_file, std::to_string(init_pid), 0644, Durability::kNoFsync));
  }
  std::move(undo).Cancel();
  LogDebug("container {} created, init pid {}", options.id, init_pid);
  return init_pid;
}

}  // namespace berth::oci
