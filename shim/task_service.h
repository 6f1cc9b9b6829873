// containerd.task.v2.Task for one container: its init process and its execs,
// driven through the OCI runtime, answered over ttrpc. Single-threaded: every
// handler runs on the shim's event loop, as does Reap() on SIGCHLD, so a
// process's exit is always handled after the call that learned its pid.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/event_loop.h"
#include "common/ttrpc/server.h"
#include "containerd/task/v2/shim.pb.h"
#include "shim/event_publisher.h"
#include "shim/oci_runtime.h"
#include "shim/process_io.h"
#include "shim/task_oom.h"

namespace berth::shim {

namespace task = containerd::task::v2;

inline constexpr char kTaskService[] = "containerd.task.v2.Task";

struct ShimIdentity {
  std::string namespace_name;
  std::string id;  // the container id containerd started the shim for
};

class TaskService {
 public:
  TaskService(EventLoop& loop, ttrpc::Server& server, EventPublisher& events,
              ShimIdentity identity);
  ~TaskService();

  // Reaps every exited child: records container processes' exits, answers their
  // waiters and publishes TaskExit; other children (runtime helpers that were
  // reparented to the subreaper) are just reaped.
  void Reap();
  // True once Shutdown asked the shim to go.
  bool ShutdownRequested() const { return shutdown_; }

 private:
  struct Process {
    std::string exec_id;  // empty for the init
    pid_t pid = 0;
    containerd::v1::types::Status status = containerd::v1::types::CREATED;
    uint32_t exit_status = 0;
    absl::Time exited_at;
    StdioPaths stdio;
    std::unique_ptr<ProcessIo> io;
    std::string spec_path;  // an exec's process.json
    std::vector<ttrpc::Responder> waiters;
  };

  template <typename Request, typename Response>
  void Handle(const char* method, absl::StatusOr<Response> (TaskService::*fn)(const Request&));
  void RegisterMethods();

  absl::StatusOr<task::StateResponse> State(const task::StateRequest& r);
  absl::StatusOr<task::CreateTaskResponse> Create(const task::CreateTaskRequest& r);
  absl::StatusOr<task::StartResponse> Start(const task::StartRequest& r);
  absl::StatusOr<task::DeleteResponse> Delete(const task::DeleteRequest& r);
  absl::StatusOr<task::PidsResponse> Pids(const task::PidsRequest& r);
  absl::StatusOr<berth::wire::Empty> Pause(const task::PauseRequest& r);
  absl::StatusOr<berth::wire::Empty> Resume(const task::ResumeRequest& r);
  absl::StatusOr<berth::wire::Empty> Kill(const task::KillRequest& r);
  absl::StatusOr<berth::wire::Empty> Exec(const task::ExecProcessRequest& r);
  absl::StatusOr<berth::wire::Empty> ResizePty(const task::ResizePtyRequest& r);
  absl::StatusOr<berth::wire::Empty> CloseIO(const task::CloseIORequest& r);
  absl::StatusOr<berth::wire::Empty> Update(const task::UpdateTaskRequest& r);
  absl::StatusOr<task::StatsResponse> Stats(const task::StatsRequest& r);
  absl::StatusOr<task::ConnectResponse> Connect(const task::ConnectRequest& r);
  absl::StatusOr<berth::wire::Empty> Shutdown(const task::ShutdownRequest& r);
  void Wait(const task::WaitRequest& r, ttrpc::Responder responder);

  absl::StatusOr<Process*> Find(const std::string& id, const std::string& exec_id);
  absl::Status StartExec(Process& process);
  void Exited(Process& process, int wait_status);

  EventLoop& loop_;
  ttrpc::Server& server_;
  EventPublisher& events_;
  ShimIdentity identity_;
  std::string bundle_;
  std::optional<OciRuntime> runtime_;
  bool rootfs_mounted_ = false;
  std::optional<Process> init_;
  bool init_deleted_ = false;
  std::map<std::string, Process> execs_;
  std::unique_ptr<TaskOomWatch> oom_watch_;
  bool shutdown_ = false;
};

}  // namespace berth::shim
