// berth.runtime.v1.Version: which berth-runtimed a client talks to.
#pragma once

#include "berth/runtime/v1/version.grpc.pb.h"

namespace berth::runtimed {

class VersionService final : public berth::runtime::v1::Version::Service {
 public:
  grpc::Status Version(grpc::ServerContext* context,
                       const berth::runtime::v1::VersionRequest* request,
                       berth::runtime::v1::VersionResponse* response) override;
};

}  // namespace berth::runtimed
