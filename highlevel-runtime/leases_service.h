// berth.runtime.v1.Leases: leases that keep content and snapshots from
// garbage collection (metadata/lease_store.h), per namespace.
#pragma once

#include "berth/runtime/v1/leases.grpc.pb.h"
#include "highlevel-runtime/gc/garbage_collector.h"
#include "highlevel-runtime/metadata/lease_store.h"

namespace berth::runtimed {

class LeasesService final : public berth::runtime::v1::Leases::Service {
 public:
  LeasesService(LeaseStore& leases, GarbageCollector& gc) : leases_(leases), gc_(gc) {}

  grpc::Status Create(grpc::ServerContext* context, const api::CreateLeaseRequest* request,
                      api::CreateLeaseResponse* response) override;
  grpc::Status Delete(grpc::ServerContext* context, const api::DeleteLeaseRequest* request,
                      api::DeleteLeaseResponse* response) override;
  grpc::Status List(grpc::ServerContext* context, const api::ListLeasesRequest* request,
                    api::ListLeasesResponse* response) override;
  grpc::Status AddResource(grpc::ServerContext* context, const api::AddResourceRequest* request,
                           api::AddResourceResponse* response) override;
  grpc::Status DeleteResource(grpc::ServerContext* context,
                              const api::DeleteResourceRequest* request,
                              api::DeleteResourceResponse* response) override;
  grpc::Status ListResources(grpc::ServerContext* context, const api::ListResourcesRequest* request,
                             api::ListResourcesResponse* response) override;

 private:
  LeaseStore& leases_;
  GarbageCollector& gc_;
};

}  // namespace berth::runtimed
