// berth.runtime.v1.Snapshots: the overlay snapshotter per namespace (the
// "berth-namespace" metadata key; "default" without it).
#pragma once

#include "berth/runtime/v1/snapshots.grpc.pb.h"
#include "highlevel-runtime/metadata/image_store.h"  // namespace api
#include "highlevel-runtime/snapshots/snapshotter.h"

namespace berth::runtimed {

class SnapshotsService final : public berth::runtime::v1::Snapshots::Service {
 public:
  explicit SnapshotsService(Snapshotter& snapshots) : snapshots_(snapshots) {}

  grpc::Status Prepare(grpc::ServerContext* context, const api::PrepareSnapshotRequest* request,
                       api::PrepareSnapshotResponse* response) override;
  grpc::Status View(grpc::ServerContext* context, const api::ViewSnapshotRequest* request,
                    api::ViewSnapshotResponse* response) override;
  grpc::Status Mounts(grpc::ServerContext* context, const api::MountsRequest* request,
                      api::MountsResponse* response) override;
  grpc::Status Commit(grpc::ServerContext* context, const api::CommitSnapshotRequest* request,
                      api::CommitSnapshotResponse* response) override;
  grpc::Status Remove(grpc::ServerContext* context, const api::RemoveSnapshotRequest* request,
                      api::RemoveSnapshotResponse* response) override;
  grpc::Status Stat(grpc::ServerContext* context, const api::StatSnapshotRequest* request,
                    api::SnapshotInfo* response) override;
  grpc::Status List(grpc::ServerContext* context, const api::ListSnapshotsRequest* request,
                    api::ListSnapshotsResponse* response) override;
  grpc::Status Usage(grpc::ServerContext* context, const api::UsageRequest* request,
                     api::UsageResponse* response) override;

 private:
  Snapshotter& snapshots_;
};

}  // namespace berth::runtimed
