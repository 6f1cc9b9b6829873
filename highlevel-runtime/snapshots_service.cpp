#include "highlevel-runtime/snapshots_service.h"

#include "common/log.h"
#include "highlevel-runtime/images_service.h"

namespace berth::runtimed {
namespace {

void AddMounts(const std::vector<Mount>& mounts,
               google::protobuf::RepeatedPtrField<api::Mount>* out) {
  for (const Mount& m : mounts) {
    api::Mount* mount = out->Add();
    mount->set_type(m.type);
    mount->set_source(m.source);
    for (const std::string& option : m.options) mount->add_options(option);
  }
}

api::SnapshotInfo ToApi(const SnapshotInfo& info) {
  api::SnapshotInfo out;
  out.set_key(info.key);
  out.set_parent(info.parent);
  if (info.kind == "committed") {
    out.set_kind(api::SnapshotInfo::COMMITTED);
  } else if (info.kind == "active") {
    out.set_kind(api::SnapshotInfo::ACTIVE);
  } else if (info.kind == "view") {
    out.set_kind(api::SnapshotInfo::VIEW);
  }
  return out;
}

}  // namespace

grpc::Status SnapshotsService::Prepare(grpc::ServerContext* context,
                                       const api::PrepareSnapshotRequest* request,
                                       api::PrepareSnapshotResponse* response) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  auto mounts = snapshots_.Prepare(*ns, request->key(), request->parent());
  if (!mounts.ok()) return ToGrpc(mounts.status());
  AddMounts(*mounts, response->mutable_mounts());
  LogDebug("prepared snapshot {} over \"{}\" in namespace {}", request->key(), request->parent(),
           *ns);
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::View(grpc::ServerContext* context,
                                    const api::ViewSnapshotRequest* request,
                                    api::ViewSnapshotResponse* response) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  auto mounts = snapshots_.View(*ns, request->key(), request->parent());
  if (!mounts.ok()) return ToGrpc(mounts.status());
  AddMounts(*mounts, response->mutable_mounts());
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::Mounts(grpc::ServerContext* context,
                                      const api::MountsRequest* request,
                                      api::MountsResponse* response) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  auto mounts = snapshots_.Mounts(*ns, request->key());
  if (!mounts.ok()) return ToGrpc(mounts.status());
  AddMounts(*mounts, response->mutable_mounts());
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::Commit(grpc::ServerContext* context,
                                      const api::CommitSnapshotRequest* request,
                                      api::CommitSnapshotResponse*) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  if (request->name().empty()) {
    return ToGrpc(absl::InvalidArgumentError("commit: the snapshot name is empty"));
  }
  return ToGrpc(snapshots_.Commit(*ns, request->name(), request->key()));
}

grpc::Status SnapshotsService::Remove(grpc::ServerContext* context,
                                      const api::RemoveSnapshotRequest* request,
                                      api::RemoveSnapshotResponse*) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  return ToGrpc(snapshots_.Remove(*ns, request->key()));
}

grpc::Status SnapshotsService::Stat(grpc::ServerContext* context,
                                    const api::StatSnapshotRequest* request,
                                    api::SnapshotInfo* response) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  auto info = snapshots_.Stat(*ns, request->key());
  if (!info.ok()) return ToGrpc(info.status());
  *response = ToApi(*info);
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::List(grpc::ServerContext* context, const api::ListSnapshotsRequest*,
                                    api::ListSnapshotsResponse* response) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  auto infos = snapshots_.List(*ns);
  if (!infos.ok()) return ToGrpc(infos.status());
  for (const SnapshotInfo& info : *infos) *response->add_info() = ToApi(info);
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::Usage(grpc::ServerContext* context, const api::UsageRequest* request,
                                     api::UsageResponse* response) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  auto usage = snapshots_.Usage(*ns, request->key());
  if (!usage.ok()) return ToGrpc(usage.status());
  response->set_size(usage->size);
  response->set_inodes(usage->inodes);
  return grpc::Status::OK;
}

}  // namespace berth::runtimed
