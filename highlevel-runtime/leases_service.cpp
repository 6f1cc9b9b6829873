#include "highlevel-runtime/leases_service.h"

#include <optional>
#include <vector>

#include "common/log.h"
#include "highlevel-runtime/filters.h"
#include "highlevel-runtime/images_service.h"

namespace berth::runtimed {
namespace {

const FilterSchema& LeaseFilterSchema() {
  static const FilterSchema* schema = new FilterSchema{"leases", {"id"}};
  return *schema;
}

std::optional<std::string> LeaseField(const api::Lease& lease, const Filter::FieldPath& path) {
  if (path[0] == "labels") return Filter::Label(lease.labels(), path);
  if (path.size() == 1 && path[0] == "id") return lease.id();
  return std::nullopt;
}

}  // namespace

grpc::Status LeasesService::Create(grpc::ServerContext* context,
                                   const api::CreateLeaseRequest* request,
                                   api::CreateLeaseResponse* response) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  auto lease = leases_.Create(*ns, request->id(), ToLabels(request->labels()));
  if (!lease.ok()) return ToGrpc(lease.status());
  *response->mutable_lease() = std::move(*lease);
  return grpc::Status::OK;
}

grpc::Status LeasesService::Delete(grpc::ServerContext* context,
                                   const api::DeleteLeaseRequest* request,
                                   api::DeleteLeaseResponse*) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  absl::Status deleted = leases_.Delete(*ns, request->id());
  if (!deleted.ok()) return ToGrpc(deleted);
  if (request->sync()) {
    auto collected = gc_.Collect({*ns});
    if (!collected.ok()) return ToGrpc(collected.status());
  }
  return grpc::Status::OK;
}

grpc::Status LeasesService::List(grpc::ServerContext* context,
                                 const api::ListLeasesRequest* request,
                                 api::ListLeasesResponse* response) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  auto filter =
      Filter::Parse(std::vector<std::string>(request->filters().begin(), request->filters().end()),
                    LeaseFilterSchema());
  if (!filter.ok()) return ToGrpc(filter.status());
  auto leases = leases_.List(*ns);
  if (!leases.ok()) return ToGrpc(leases.status());
  for (api::Lease& lease : *leases) {
    if (filter->Matches([&](const Filter::FieldPath& path) { return LeaseField(lease, path); })) {
      *response->add_leases() = std::move(lease);
    }
  }
  return grpc::Status::OK;
}

grpc::Status LeasesService::AddResource(grpc::ServerContext* context,
                                        const api::AddResourceRequest* request,
                                        api::AddResourceResponse*) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  return ToGrpc(leases_.AddResource(*ns, request->id(), request->resource()));
}

grpc::Status LeasesService::DeleteResource(grpc::ServerContext* context,
                                           const api::DeleteResourceRequest* request,
                                           api::DeleteResourceResponse*) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  return ToGrpc(leases_.DeleteResource(*ns, request->id(), request->resource()));
}

grpc::Status LeasesService::ListResources(grpc::ServerContext* context,
                                          const api::ListResourcesRequest* request,
                                          api::ListResourcesResponse* response) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  auto resources = leases_.ListResources(*ns, request->id());
  if (!resources.ok()) return ToGrpc(resources.status());
  for (api::Resource& r : *resources) *response->add_resources() = std::move(r);
  return grpc::Status::OK;
}

}  // namespace berth::runtimed
