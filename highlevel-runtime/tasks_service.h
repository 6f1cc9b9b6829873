// berth.runtime.v1.Tasks: running containers through their shims.
#pragma once

#include "berth/runtime/v1/tasks.grpc.pb.h"
#include "highlevel-runtime/metadata/container_store.h"
#include "highlevel-runtime/snapshots/snapshotter.h"
#include "highlevel-runtime/tasks/task_manager.h"

namespace berth::runtimed {

namespace api = berth::runtime::v1;

class TasksService final : public berth::runtime::v1::Tasks::Service {
 public:
  TasksService(ContainerStore& containers, Snapshotter& snapshots, TaskManager& tasks)
      : containers_(containers), snapshots_(snapshots), tasks_(tasks) {}

  grpc::Status Create(grpc::ServerContext*, const api::CreateTaskRequest*,
                      api::CreateTaskResponse*) override;
  grpc::Status Start(grpc::ServerContext*, const api::StartTaskRequest*,
                     api::StartTaskResponse*) override;
  grpc::Status State(grpc::ServerContext*, const api::TaskStateRequest*, api::TaskState*) override;
  grpc::Status Wait(grpc::ServerContext*, const api::WaitTaskRequest*,
                    api::WaitTaskResponse*) override;
  grpc::Status Kill(grpc::ServerContext*, const api::KillTaskRequest*,
                    api::KillTaskResponse*) override;
  grpc::Status Exec(grpc::ServerContext*, const api::ExecTaskRequest*,
                    api::ExecTaskResponse*) override;
  grpc::Status Pids(grpc::ServerContext*, const api::PidsRequest*, api::PidsResponse*) override;
  grpc::Status Pause(grpc::ServerContext*, const api::PauseTaskRequest*,
                     api::PauseTaskResponse*) override;
  grpc::Status Resume(grpc::ServerContext*, const api::ResumeTaskRequest*,
                      api::ResumeTaskResponse*) override;
  grpc::Status ResizePty(grpc::ServerContext*, const api::ResizePtyRequest*,
                         api::ResizePtyResponse*) override;
  grpc::Status CloseIO(grpc::ServerContext*, const api::CloseIORequest*,
                       api::CloseIOResponse*) override;
  grpc::Status Delete(grpc::ServerContext*, const api::DeleteTaskRequest*,
                      api::DeleteTaskResponse*) override;
  grpc::Status List(grpc::ServerContext*, const api::ListTasksRequest*,
                    api::ListTasksResponse*) override;
  grpc::Status Stats(grpc::ServerContext*, const api::StatsRequest*, api::StatsResponse*) override;

 private:
  absl::StatusOr<api::TaskState> GetState(const std::string& ns, const std::string& id,
                                          const std::string& exec_id);
  ContainerStore& containers_;
  Snapshotter& snapshots_;
  TaskManager& tasks_;
};

}  // namespace berth::runtimed
