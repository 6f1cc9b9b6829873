#include "highlevel-runtime/version_service.h"

#include <string>

#include "common/build_info.h"

namespace berth::runtimed {

grpc::Status VersionService::Version(grpc::ServerContext* /*context*/,
                                     const berth::runtime::v1::VersionRequest* /*request*/,
                                     berth::runtime::v1::VersionResponse* response) {
  response->set_version(std::string(berth::Version()));
  response->set_revision(std::string(berth::GitCommit()));
  response->set_build_date(std::string(berth::BuildDate()));
  return grpc::Status::OK;
}

}  // namespace berth::runtimed
