#include "highlevel-runtime/tasks_service.h"

#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status.h"
#include "containerd/task/v2/shim.pb.h"
#include "highlevel-runtime/images_service.h"
#include "highlevel-runtime/tasks/task_stats.h"

namespace berth::runtimed {
namespace {

namespace task = containerd::task::v2;

void CopyTime(const berth::wire::Timestamp& in, google::protobuf::Timestamp* out) {
  out->set_seconds(in.seconds());
  out->set_nanos(in.nanos());
}

// Calls METHOD on the task's shim with REQUEST; parses the answer into RESPONSE.
// With a context, the call ends once the gRPC call is cancelled (its client
// went away or its deadline passed).
template <typename Response>
absl::Status ShimCall(TaskManager& tasks, const std::string& ns, const std::string& id,
                      const std::string& method, const google::protobuf::MessageLite& request,
                      Response* response, grpc::ServerContext* cancellable = nullptr) {
  std::function<bool()> cancelled;
  if (cancellable != nullptr) cancelled = [cancellable] { return cancellable->IsCancelled(); };
  BERTH_ASSIGN_OR_RETURN(std::string out,
                         tasks.Call(ns, id, method, request.SerializeAsString(), cancelled));
  if (response != nullptr && !response->ParseFromString(out)) {
    return absl::DataLossError(absl::StrCat("shim: malformed ", method, " response"));
  }
  return absl::OkStatus();
}

#define BERTH_NAMESPACE_OR_RETURN(ns, context)        \
  auto ns##_or = CallNamespace(*(context));           \
  if (!ns##_or.ok()) return ToGrpc(ns##_or.status()); \
  const std::string& ns = *ns##_or

}  // namespace

grpc::Status TasksService::Create(grpc::ServerContext* context,
                                  const api::CreateTaskRequest* request,
                                  api::CreateTaskResponse* response) {
  BERTH_NAMESPACE_OR_RETURN(ns, context);
  auto c = containers_.Get(ns, request->container_id());
  if (!c.ok()) return ToGrpc(c.status());
  std::vector<Mount> rootfs;
  if (!c->snapshot_key().empty()) {
    auto mounts = snapshots_.Mounts(ns, c->snapshot_key());
    if (!mounts.ok()) return ToGrpc(mounts.status());
    rootfs = *mounts;
  }
  auto pid = tasks_.Create(ns, *c, rootfs, request->stdio());
  if (!pid.ok()) return ToGrpc(pid.status());
  response->set_pid(*pid);
  return grpc::Status::OK;
}

grpc::Status TasksService::Start(grpc::ServerContext* context, const api::StartTaskRequest* request,
                                 api::StartTaskResponse* response) {
  BERTH_NAMESPACE_OR_RETURN(ns, context);
  task::StartRequest r;
  r.set_id(request->container_id());
  r.set_exec_id(request->exec_id());
  task::StartResponse out;
  if (auto st = ShimCall(tasks_, ns, request->container_id(), "Start", r, &out); !st.ok()) {
    return ToGrpc(st);
  }
  response->set_pid(out.pid());
  return grpc::Status::OK;
}

absl::StatusOr<api::TaskState> TasksService::GetState(const std::string& ns, const std::string& id,
                                                      const std::string& exec_id) {
  task::StateRequest r;
  r.set_id(id);
  r.set_exec_id(exec_id);
  task::StateResponse out;
  BERTH_RETURN_IF_ERROR(ShimCall(tasks_, ns, id, "State", r, &out));
  api::TaskState state;
  state.set_container_id(id);
  state.set_exec_id(exec_id);
  state.set_pid(out.pid());
  state.set_status(static_cast<api::TaskState::Status>(out.status()));
  state.set_exit_status(out.exit_status());
  if (out.has_exited_at()) CopyTime(out.exited_at(), state.mutable_exited_at());
  state.mutable_stdio()->set_stdin(out.stdin());
  state.mutable_stdio()->set_stdout(out.stdout());
  state.mutable_stdio()->set_stderr(out.stderr());
  state.mutable_stdio()->set_terminal(out.terminal());
  return state;
}

grpc::Status TasksService::State(grpc::ServerContext* context, const api::TaskStateRequest* request,
                                 api::TaskState* response) {
  BERTH_NAMESPACE_OR_RETURN(ns, context);
  auto state = GetState(ns, request->container_id(), request->exec_id());
  if (!state.ok()) return ToGrpc(state.status());
  *response = std::move(*state);
  return grpc::Status::OK;
}

grpc::Status TasksService::Wait(grpc::ServerContext* context, const api::WaitTaskRequest* request,
                                api::WaitTaskResponse* response) {
  BERTH_NAMESPACE_OR_RETURN(ns, context);
  task::WaitRequest r;
  r.set_id(request->container_id());
  r.set_exec_id(request->exec_id());
  task::WaitResponse out;
  if (auto st = ShimCall(tasks_, ns, request->container_id(), "Wait", r, &out, context); !st.ok()) {
    return ToGrpc(st);
  }
  response->set_exit_status(out.exit_status());
  CopyTime(out.exited_at(), response->mutable_exited_at());
  return grpc::Status::OK;
}

grpc::Status TasksService::Kill(grpc::ServerContext* context, const api::KillTaskRequest* request,
                                api::KillTaskResponse*) {
  BERTH_NAMESPACE_OR_RETURN(ns, context);
  task::KillRequest r;
  r.set_id(request->container_id());
  r.set_exec_id(request->exec_id());
  r.set_signal(request->signal() == 0 ? 15 : request->signal());
  r.set_all(request->all());
  return ToGrpc(
      ShimCall<berth::wire::Empty>(tasks_, ns, request->container_id(), "Kill", r, nullptr));
}

grpc::Status TasksService::Exec(grpc::ServerContext* context, const api::ExecTaskRequest* request,
                                api::ExecTaskResponse*) {
  BERTH_NAMESPACE_OR_RETURN(ns, context);
  task::ExecProcessRequest r;
  r.set_id(request->container_id());
  r.set_exec_id(request->exec_id());
  r.set_terminal(request->stdio().terminal());
  r.set_stdin(request->stdio().stdin());
  r.set_stdout(request->stdio().stdout());
  r.set_stderr(request->stdio().stderr());
  r.mutable_spec()->set_type_url("types.containerd.io/opencontainers/runtime-spec/1/Process");
  r.mutable_spec()->set_value(request->process());
  return ToGrpc(
      ShimCall<berth::wire::Empty>(tasks_, ns, request->container_id(), "Exec", r, nullptr));
}

grpc::Status TasksService::Pids(grpc::ServerContext* context, const api::PidsRequest* request,
                                api::PidsResponse* response) {
  BERTH_NAMESPACE_OR_RETURN(ns, context);
  task::PidsRequest r;
  r.set_id(request->container_id());
  task::PidsResponse out;
  if (auto st = ShimCall(tasks_, ns, request->container_id(), "Pids", r, &out); !st.ok()) {
    return ToGrpc(st);
  }
  for (const auto& p : out.processes()) response->add_pids(p.pid());
  return grpc::Status::OK;
}

grpc::Status TasksService::Pause(grpc::ServerContext* context, const api::PauseTaskRequest* request,
                                 api::PauseTaskResponse*) {
  BERTH_NAMESPACE_OR_RETURN(ns, context);
  task::PauseRequest r;
  r.set_id(request->container_id());
  return ToGrpc(
      ShimCall<berth::wire::Empty>(tasks_, ns, request->container_id(), "Pause", r, nullptr));
}

grpc::Status TasksService::Resume(grpc::ServerContext* context,
                                  const api::ResumeTaskRequest* request, api::ResumeTaskResponse*) {
  BERTH_NAMESPACE_OR_RETURN(ns, context);
  task::ResumeRequest r;
  r.set_id(request->container_id());
  return ToGrpc(
      ShimCall<berth::wire::Empty>(tasks_, ns, request->container_id(), "Resume", r, nullptr));
}

grpc::Status TasksService::ResizePty(grpc::ServerContext* context,
                                     const api::ResizePtyRequest* request,
                                     api::ResizePtyResponse*) {
  BERTH_NAMESPACE_OR_RETURN(ns, context);
  task::ResizePtyRequest r;
  r.set_id(request->container_id());
  r.set_exec_id(request->exec_id());
  r.set_width(request->width());
  r.set_height(request->height());
  return ToGrpc(
      ShimCall<berth::wire::Empty>(tasks_, ns, request->container_id(), "ResizePty", r, nullptr));
}

grpc::Status TasksService::CloseIO(grpc::ServerContext* context, const api::CloseIORequest* request,
                                   api::CloseIOResponse*) {
  BERTH_NAMESPACE_OR_RETURN(ns, context);
  task::CloseIORequest r;
  r.set_id(request->container_id());
  r.set_exec_id(request->exec_id());
  r.set_stdin(true);
  return ToGrpc(
      ShimCall<berth::wire::Empty>(tasks_, ns, request->container_id(), "CloseIO", r, nullptr));
}

grpc::Status TasksService::Delete(grpc::ServerContext* context,
                                  const api::DeleteTaskRequest* request,
                                  api::DeleteTaskResponse* response) {
  BERTH_NAMESPACE_OR_RETURN(ns, context);
  task::DeleteRequest r;
  r.set_id(request->container_id());
  r.set_exec_id(request->exec_id());
  task::DeleteResponse out;
  if (auto st = ShimCall(tasks_, ns, request->container_id(), "Delete", r, &out); !st.ok()) {
    return ToGrpc(st);
  }
  response->set_pid(out.pid());
  response->set_exit_status(out.exit_status());
  CopyTime(out.exited_at(), response->mutable_exited_at());
  if (request->exec_id().empty()) {
    if (auto st = tasks_.Remove(ns, request->container_id()); !st.ok()) return ToGrpc(st);
  }
  return grpc::Status::OK;
}

grpc::Status TasksService::List(grpc::ServerContext* context, const api::ListTasksRequest*,
                                api::ListTasksResponse* response) {
  BERTH_NAMESPACE_OR_RETURN(ns, context);
  for (const std::string& id : tasks_.Ids(ns)) {
    auto state = GetState(ns, id, "");
    if (state.ok()) *response->add_tasks() = std::move(*state);
  }
  return grpc::Status::OK;
}

grpc::Status TasksService::Stats(grpc::ServerContext* context, const api::StatsRequest* request,
                                 api::StatsResponse* response) {
  BERTH_NAMESPACE_OR_RETURN(ns, context);
  task::StatsRequest r;
  r.set_id(request->container_id());
  task::StatsResponse out;
  if (auto st = ShimCall(tasks_, ns, request->container_id(), "Stats", r, &out, context);
      !st.ok()) {
    return ToGrpc(st);
  }
  // The host's CPU time right after the cgroup's, as dockerd samples both.
  absl::Time read_at = absl::Now();
  auto host = ReadHostCpu();
  if (!host.ok()) return ToGrpc(host.status());
  if (auto st = FillStatsFromMetrics(out.stats(), response); !st.ok()) return ToGrpc(st);
  response->mutable_cpu()->set_system_usage_ns(host->system_usage_ns);
  response->mutable_cpu()->set_online_cpus(host->online_cpus);
  const int64_t nanos = absl::ToUnixNanos(read_at);
  response->mutable_read_at()->set_seconds(nanos / 1'000'000'000);
  response->mutable_read_at()->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
  return grpc::Status::OK;
}

}  // namespace berth::runtimed
