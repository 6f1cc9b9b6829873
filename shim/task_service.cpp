#include "shim/task_service.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/fd_util.h"
#include "common/json.h"
#include "common/log.h"
#include "common/process.h"
#include "common/status.h"
#include "containerd/events/task.pb.h"
#include "containerd/runc/options.pb.h"
#include "shim/proto_time.h"
#include "shim/rootfs_mounts.h"
#include "shim/runtime_options.h"
#include "shim/task_metrics.h"

namespace berth::shim {
namespace {

using containerd::v1::types::Status;

}  // namespace

TaskService::TaskService(EventLoop& loop, ttrpc::Server& server, EventPublisher& events,
                         ShimIdentity identity)
    : loop_(loop), server_(server), events_(events), identity_(std::move(identity)) {
  RegisterMethods();
}

TaskService::~TaskService() = default;

template <typename Request, typename Response>
void TaskService::Handle(const char* method,
                         absl::StatusOr<Response> (TaskService::*fn)(const Request&)) {
  server_.Register(
      kTaskService, method,
      [this, fn, method](const std::string& payload, ttrpc::Responder responder) {
        Request request;
        if (!request.ParseFromString(payload)) {
          responder.Fail(absl::InvalidArgumentError(absl::StrCat(method, ": malformed request")));
          return;
        }
        absl::StatusOr<Response> response = (this->*fn)(request);
        if (!response.ok()) {
          LogDebug("{}: {}", method, response.status().ToString());
          responder.Fail(response.status());
        } else {
          responder.Reply(response->SerializeAsString());
        }
      });
}

void TaskService::RegisterMethods() {
  Handle("State", &TaskService::State);
  Handle("Create", &TaskService::Create);
  Handle("Start", &TaskService::Start);
  Handle("Delete", &TaskService::Delete);
  Handle("Pids", &TaskService::Pids);
  Handle("Pause", &TaskService::Pause);
  Handle("Resume", &TaskService::Resume);
  Handle("Kill", &TaskService::Kill);
  Handle("Exec", &TaskService::Exec);
  Handle("ResizePty", &TaskService::ResizePty);
  Handle("CloseIO", &TaskService::CloseIO);
  Handle("Update", &TaskService::Update);
  Handle("Connect", &TaskService::Connect);
  Handle("Shutdown", &TaskService::Shutdown);
  Handle("Stats", &TaskService::Stats);
  server_.Register(kTaskService, "Wait",
                   [this](const std::string& payload, ttrpc::Responder responder) {
                     task::WaitRequest request;
                     if (!request.ParseFromString(payload)) {
                       responder.Fail(absl::InvalidArgumentError("Wait: malformed request"));
                       return;
                     }
                     Wait(request, std::move(responder));
                   });
  // Checkpoint is not served: the server answers Unimplemented.
}

absl::StatusOr<TaskService::Process*> TaskService::Find(const std::string& id,
                                                        const std::string& exec_id) {
  if (!init_ || init_deleted_ || id != identity_.id) {
    return absl::NotFoundError(absl::StrCat("container ", id, ": not found"));
  }
  if (exec_id.empty()) return &*init_;
  auto it = execs_.find(exec_id);
  if (it == execs_.end()) {
    return absl::NotFoundError(
        absl::StrCat("process ", exec_id, " of container ", id, ": not found"));
  }
  return &it->second;
}

absl::StatusOr<task::CreateTaskResponse> TaskService::Create(const task::CreateTaskRequest& r) {
  if (init_)
    return absl::AlreadyExistsError(absl::StrCat("container ", r.id(), ": already exists"));
  if (r.id() != identity_.id) {
    return absl::InvalidArgumentError(
        absl::StrCat("this shim serves container ", identity_.id, ", not ", r.id()));
  }
  if (!r.checkpoint().empty()) return absl::UnimplementedError("restore from a checkpoint");
  bundle_ = r.bundle();
  BERTH_ASSIGN_OR_RETURN(RuntimeOptions options, RuntimeOptionsFromAny(r.options()));
  ResolveRuntimeOptions(options, identity_.namespace_name);
  BERTH_RETURN_IF_ERROR(SaveRuntimeOptions(bundle_, options));
  runtime_.emplace(options.binary_name, options.root, bundle_);

  std::string rootfs = bundle_ + "/rootfs";
  if (r.rootfs_size() > 0) {
    std::vector<RootfsMount> mounts;
    for (const auto& m : r.rootfs()) {
      mounts.push_back({m.type(), m.source(), {m.options().begin(), m.options().end()}});
    }
    if (::mkdir(rootfs.c_str(), 0711) != 0 && errno != EEXIST) {
      return LastErrnoError(absl::StrCat("mkdir ", rootfs));
    }
    BERTH_RETURN_IF_ERROR(MountRootfs(mounts, rootfs));
    rootfs_mounted_ = true;
  }
  auto unmount = [&] {
    if (rootfs_mounted_ && UnmountRootfs(rootfs).ok()) rootfs_mounted_ = false;
  };

  Process init;
  init.stdio = {r.stdin(), r.stdout(), r.stderr(), r.terminal()};
  auto io = ProcessIo::Open(loop_, init.stdio);
  if (!io.ok()) {
    unmount();
    return io.status();
  }
  init.io = std::move(*io);
  std::string pid_file = bundle_ + "/init.pid";
  std::vector<std::string> args = {"create", "--bundle", bundle_, "--pid-file", pid_file};
  if (options.no_pivot_root) args.push_back("--no-pivot");
  if (options.no_new_keyring) args.push_back("--no-new-keyring");
  if (!init.io->ConsoleSocket().empty()) {
    args.insert(args.end(), {"--console-socket", init.io->ConsoleSocket()});
  }
  args.push_back(r.id());
  absl::Status created = runtime_->Run("create", args, init.io->RuntimeStdio());
  if (created.ok()) created = init.io->Started();
  absl::StatusOr<pid_t> pid = created.ok() ? ReadPidFile(pid_file) : created;
  if (!pid.ok()) {
    (void)runtime_->Run("delete", {"delete", "--force", r.id()});
    unmount();
    return pid.status();
  }
  init.pid = *pid;
  init_ = std::move(init);

  containerd::events::TaskCreate event;
  event.set_container_id(r.id());
  event.set_bundle(bundle_);
  *event.mutable_rootfs() = r.rootfs();
  event.mutable_io()->set_stdin(r.stdin());
  event.mutable_io()->set_stdout(r.stdout());
  event.mutable_io()->set_stderr(r.stderr());
  event.mutable_io()->set_terminal(r.terminal());
  event.set_pid(static_cast<uint32_t>(init_->pid));
  events_.Publish("/tasks/create", "TaskCreate", event);

  auto oom = TaskOomWatch::Start(loop_, init_->pid, [this] {
    containerd::events::TaskOOM oom_event;
    oom_event.set_container_id(identity_.id);
    events_.Publish("/tasks/oom", "TaskOOM", oom_event);
  });
  if (oom.ok()) {
    oom_watch_ = std::move(*oom);
  } else {
    LogWarn("no OOM notifications for {}: {}", r.id(), oom.status().message());
  }

  task::CreateTaskResponse response;
  response.set_pid(static_cast<uint32_t>(init_->pid));
  return response;
}

absl::StatusOr<task::StartResponse> TaskService::Start(const task::StartRequest& r) {
  BERTH_ASSIGN_OR_RETURN(Process * p, Find(r.id(), r.exec_id()));
  if (p->status != Status::CREATED) {
    return absl::FailedPreconditionError(absl::StrCat("process ", p->pid, " was already started"));
  }
  if (p->exec_id.empty()) {
    BERTH_RETURN_IF_ERROR(runtime_->Run("start", {"start", r.id()}));
    p->status = Status::RUNNING;
    containerd::events::TaskStart event;
    event.set_container_id(r.id());
    event.set_pid(static_cast<uint32_t>(p->pid));
    events_.Publish("/tasks/start", "TaskStart", event);
  } else {
    BERTH_RETURN_IF_ERROR(StartExec(*p));
  }
  task::StartResponse response;
  response.set_pid(static_cast<uint32_t>(p->pid));
  return response;
}

absl::Status TaskService::StartExec(Process& p) {
  if (init_->status == Status::STOPPED) {
    return absl::FailedPreconditionError("cannot exec in a stopped container");
  }
  BERTH_ASSIGN_OR_RETURN(p.io, ProcessIo::Open(loop_, p.stdio));
  std::string pid_file = absl::StrCat(bundle_, "/exec-", p.exec_id, ".pid");
  std::vector<std::string> args = {"exec",     "--process",  p.spec_path,
                                   "--detach", "--pid-file", pid_file};
  if (!p.io->ConsoleSocket().empty()) {
    args.insert(args.end(), {"--console-socket", p.io->ConsoleSocket()});
  }
  args.push_back(identity_.id);
  absl::Status started = runtime_->Run("exec", args, p.io->RuntimeStdio());
  ::unlink(p.spec_path.c_str());
  if (started.ok()) started = p.io->Started();
  absl::StatusOr<pid_t> pid = started.ok() ? ReadPidFile(pid_file) : started;
  ::unlink(pid_file.c_str());
  if (!pid.ok()) {
    p.io.reset();
    return pid.status();
  }
  p.pid = *pid;
  p.status = Status::RUNNING;
  containerd::events::TaskExecStarted event;
  event.set_container_id(identity_.id);
  event.set_exec_id(p.exec_id);
  event.set_pid(static_cast<uint32_t>(p.pid));
  events_.Publish("/tasks/exec-started", "TaskExecStarted", event);
  return absl::OkStatus();
}

absl::StatusOr<task::StateResponse> TaskService::State(const task::StateRequest& r) {
  BERTH_ASSIGN_OR_RETURN(Process * p, Find(r.id(), r.exec_id()));
  task::StateResponse response;
  response.set_id(p->exec_id.empty() ? r.id() : p->exec_id);
  response.set_exec_id(p->exec_id);
  response.set_bundle(bundle_);
  response.set_pid(static_cast<uint32_t>(p->pid));
  response.set_status(p->status);
  response.set_stdin(p->stdio.stdin_path);
  response.set_stdout(p->stdio.stdout_path);
  response.set_stderr(p->stdio.stderr_path);
  response.set_terminal(p->stdio.terminal);
  if (p->status == Status::STOPPED) {
    response.set_exit_status(p->exit_status);
    SetTimestamp(p->exited_at, response.mutable_exited_at());
  }
  return response;
}

absl::StatusOr<task::DeleteResponse> TaskService::Delete(const task::DeleteRequest& r) {
  BERTH_ASSIGN_OR_RETURN(Process * p, Find(r.id(), r.exec_id()));
  if (p->status != Status::STOPPED && p->status != Status::CREATED) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot delete process ", p->pid, ": it is still running"));
  }
  task::DeleteResponse response;
  response.set_pid(static_cast<uint32_t>(p->pid));
  response.set_exit_status(p->exit_status);
  SetTimestamp(p->status == Status::STOPPED ? p->exited_at : absl::Now(),
               response.mutable_exited_at());
  if (!p->exec_id.empty()) {
    execs_.erase(p->exec_id);
    return response;
  }
  // A created init has not run: delete --force kills it.
  std::vector<std::string> args = {"delete"};
  if (p->status == Status::CREATED) args.push_back("--force");
  args.push_back(r.id());
  BERTH_RETURN_IF_ERROR(runtime_->Run("delete", args));
  if (p->io) p->io->Finish();
  if (rootfs_mounted_) {
    BERTH_RETURN_IF_ERROR(UnmountRootfs(bundle_ + "/rootfs"));
    rootfs_mounted_ = false;
  }
  init_deleted_ = true;
  oom_watch_.reset();
  containerd::events::TaskDelete event;
  event.set_container_id(r.id());
  event.set_pid(response.pid());
  event.set_exit_status(response.exit_status());
  *event.mutable_exited_at() = response.exited_at();
  events_.Publish("/tasks/delete", "TaskDelete", event);
  return response;
}

absl::StatusOr<task::PidsResponse> TaskService::Pids(const task::PidsRequest& r) {
  BERTH_RETURN_IF_ERROR(Find(r.id(), "").status());
  BERTH_ASSIGN_OR_RETURN(std::string out,
                         runtime_->Output("ps", {"ps", "--format", "json", r.id()}));
  BERTH_ASSIGN_OR_RETURN(Json pids, ParseJson(out, "ps output"));
  task::PidsResponse response;
  if (!pids.is_array()) return response;
  for (const Json& pid : pids) {
    if (pid.is_number_integer()) response.add_processes()->set_pid(pid.get<uint32_t>());
  }
  return response;
}

absl::StatusOr<berth::wire::Empty> TaskService::Pause(const task::PauseRequest& r) {
  BERTH_ASSIGN_OR_RETURN(Process * p, Find(r.id(), ""));
  BERTH_RETURN_IF_ERROR(runtime_->Run("pause", {"pause", r.id()}));
  p->status = Status::PAUSED;
  containerd::events::TaskPaused event;
  event.set_container_id(r.id());
  events_.Publish("/tasks/paused", "TaskPaused", event);
  return berth::wire::Empty();
}

absl::StatusOr<berth::wire::Empty> TaskService::Resume(const task::ResumeRequest& r) {
  BERTH_ASSIGN_OR_RETURN(Process * p, Find(r.id(), ""));
  BERTH_RETURN_IF_ERROR(runtime_->Run("resume", {"resume", r.id()}));
  if (p->status == Status::PAUSED) p->status = Status::RUNNING;
  containerd::events::TaskResumed event;
  event.set_container_id(r.id());
  events_.Publish("/tasks/resumed", "TaskResumed", event);
  return berth::wire::Empty();
}

absl::StatusOr<berth::wire::Empty> TaskService::Kill(const task::KillRequest& r) {
  BERTH_ASSIGN_OR_RETURN(Process * p, Find(r.id(), r.exec_id()));
  if (p->status == Status::STOPPED && !(p->exec_id.empty() && r.all())) {
    return absl::NotFoundError(absl::StrCat("process ", p->pid, ": process already finished"));
  }
  if (!p->exec_id.empty()) {
    if (::kill(p->pid, static_cast<int>(r.signal())) != 0) {
      return LastErrnoError(absl::StrCat("kill process ", p->pid));
    }
    return berth::wire::Empty();
  }
  std::vector<std::string> args = {"kill"};
  if (r.all()) args.push_back("--all");
  args.insert(args.end(), {r.id(), std::to_string(r.signal())});
  BERTH_RETURN_IF_ERROR(runtime_->Run("kill", args));
  return berth::wire::Empty();
}

absl::StatusOr<berth::wire::Empty> TaskService::Exec(const task::ExecProcessRequest& r) {
  BERTH_RETURN_IF_ERROR(Find(r.id(), "").status());
  if (r.exec_id().empty()) return absl::InvalidArgumentError("exec: an exec id is required");
  if (execs_.count(r.exec_id()) != 0) {
    return absl::AlreadyExistsError(absl::StrCat("exec ", r.exec_id(), ": already exists"));
  }
  Process p;
  p.exec_id = r.exec_id();
  p.stdio = {r.stdin(), r.stdout(), r.stderr(), r.terminal()};
  // The Any holds the runtime-spec Process as JSON (containerd's typeurl).
  p.spec_path = absl::StrCat(bundle_, "/exec-", r.exec_id(), ".json");
  BERTH_RETURN_IF_ERROR(WriteStringToFile(p.spec_path, r.spec().value(), 0600));
  execs_.emplace(r.exec_id(), std::move(p));
  containerd::events::TaskExecAdded event;
  event.set_container_id(r.id());
  event.set_exec_id(r.exec_id());
  events_.Publish("/tasks/exec-added", "TaskExecAdded", event);
  return berth::wire::Empty();
}

absl::StatusOr<berth::wire::Empty> TaskService::ResizePty(const task::ResizePtyRequest& r) {
  BERTH_ASSIGN_OR_RETURN(Process * p, Find(r.id(), r.exec_id()));
  if (!p->io) return absl::FailedPreconditionError("the process has not started");
  BERTH_RETURN_IF_ERROR(p->io->Resize(r.width(), r.height()));
  return berth::wire::Empty();
}

absl::StatusOr<berth::wire::Empty> TaskService::CloseIO(const task::CloseIORequest& r) {
  BERTH_ASSIGN_OR_RETURN(Process * p, Find(r.id(), r.exec_id()));
  if (r.stdin() && p->io) p->io->CloseStdin();
  return berth::wire::Empty();
}

absl::StatusOr<berth::wire::Empty> TaskService::Update(const task::UpdateTaskRequest& r) {
  BERTH_RETURN_IF_ERROR(Find(r.id(), "").status());
  // The Any holds the runtime-spec LinuxResources as JSON.
  std::string path = bundle_ + "/update-resources.json";
  BERTH_RETURN_IF_ERROR(WriteStringToFile(path, r.resources().value(), 0600));
  absl::Status updated = runtime_->Run("update", {"update", "--resources", path, r.id()});
  ::unlink(path.c_str());
  BERTH_RETURN_IF_ERROR(updated);
  return berth::wire::Empty();
}

absl::StatusOr<task::StatsResponse> TaskService::Stats(const task::StatsRequest& r) {
  BERTH_RETURN_IF_ERROR(Find(r.id(), "").status());
  BERTH_ASSIGN_OR_RETURN(std::string out,
                         runtime_->Output("events", {"events", "--stats", r.id()}));
  BERTH_ASSIGN_OR_RETURN(auto metrics, MetricsFromRuntimeStats(out));
  task::StatsResponse response;
  response.mutable_stats()->set_type_url(kMetricsV1TypeUrl);
  response.mutable_stats()->set_value(metrics.SerializeAsString());
  return response;
}

absl::StatusOr<task::ConnectResponse> TaskService::Connect(const task::ConnectRequest&) {
  task::ConnectResponse response;
  response.set_shim_pid(static_cast<uint32_t>(::getpid()));
  if (init_) response.set_task_pid(static_cast<uint32_t>(init_->pid));
  return response;
}

absl::StatusOr<berth::wire::Empty> TaskService::Shutdown(const task::ShutdownRequest& r) {
  // As containerd's shims: a shim whose container still exists stays.
  if (r.now() || !init_ || init_deleted_) {
    shutdown_ = true;
    loop_.Stop();
  }
  return berth::wire::Empty();
}

void TaskService::Wait(const task::WaitRequest& r, ttrpc::Responder responder) {
  auto p = Find(r.id(), r.exec_id());
  if (!p.ok()) {
    responder.Fail(p.status());
    return;
  }
  if ((*p)->status != Status::STOPPED) {
    (*p)->waiters.push_back(std::move(responder));
    return;
  }
  task::WaitResponse response;
  response.set_exit_status((*p)->exit_status);
  SetTimestamp((*p)->exited_at, response.mutable_exited_at());
  responder.Reply(response.SerializeAsString());
}

void TaskService::Exited(Process& p, int wait_status) {
  p.status = Status::STOPPED;
  p.exit_status = static_cast<uint32_t>(ExitCodeFromWaitStatus(wait_status));
  p.exited_at = absl::Now();
  if (p.io) p.io->Finish();
  LogDebug("process {} ({}) exited: {}", p.pid, p.exec_id.empty() ? "init" : p.exec_id,
           p.exit_status);
  containerd::events::TaskExit event;
  event.set_container_id(identity_.id);
  event.set_id(p.exec_id.empty() ? identity_.id : p.exec_id);
  event.set_pid(static_cast<uint32_t>(p.pid));
  event.set_exit_status(p.exit_status);
  SetTimestamp(p.exited_at, event.mutable_exited_at());
  events_.Publish("/tasks/exit", "TaskExit", event);
  task::WaitResponse response;
  response.set_exit_status(p.exit_status);
  *response.mutable_exited_at() = event.exited_at();
  std::string payload = response.SerializeAsString();
  for (ttrpc::Responder& waiter : p.waiters) waiter.Reply(payload);
  p.waiters.clear();
}

void TaskService::Reap() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    if (init_ && init_->pid == pid && init_->status != Status::STOPPED) {
      // The execs die with the init's pid namespace; their exits come first.
      Exited(*init_, status);
      continue;
    }
    for (auto& [exec_id, p] : execs_) {
      if (p.pid == pid && p.status != Status::STOPPED) {
        Exited(p, status);
        break;
      }
    }
  }
}

}  // namespace berth::shim
