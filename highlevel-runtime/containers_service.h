// berth.runtime.v1.Containers: container metadata, and the snapshot that is
// each container's root filesystem.
#pragma once

#include "berth/runtime/v1/containers.grpc.pb.h"
#include "highlevel-runtime/content/content_store.h"
#include "highlevel-runtime/events/event_bus.h"
#include "highlevel-runtime/metadata/container_store.h"
#include "highlevel-runtime/metadata/image_store.h"
#include "highlevel-runtime/snapshots/snapshotter.h"
#include "highlevel-runtime/tasks/task_manager.h"

namespace berth::runtimed {

namespace api = berth::runtime::v1;

class ContainersService final : public berth::runtime::v1::Containers::Service {
 public:
  ContainersService(ContainerStore& containers, ImageStore& images, ContentStore& content,
                    Snapshotter& snapshots, TaskManager& tasks, EventBus& events)
      : containers_(containers),
        images_(images),
        content_(content),
        snapshots_(snapshots),
        tasks_(tasks),
        events_(events) {}

  grpc::Status Create(grpc::ServerContext* context, const api::CreateContainerRequest* request,
                      api::Container* response) override;
  grpc::Status Get(grpc::ServerContext* context, const api::GetContainerRequest* request,
                   api::Container* response) override;
  grpc::Status List(grpc::ServerContext* context, const api::ListContainersRequest* request,
                    api::ListContainersResponse* response) override;
  grpc::Status Update(grpc::ServerContext* context, const api::UpdateContainerRequest* request,
                      api::Container* response) override;
  grpc::Status Delete(grpc::ServerContext* context, const api::DeleteContainerRequest* request,
                      api::DeleteContainerResponse* response) override;

 private:
  absl::StatusOr<api::Container> CreateContainer(const std::string& ns, api::Container c);

  ContainerStore& containers_;
  ImageStore& images_;
  ContentStore& content_;
  Snapshotter& snapshots_;
  TaskManager& tasks_;
  EventBus& events_;
};

}  // namespace berth::runtimed
