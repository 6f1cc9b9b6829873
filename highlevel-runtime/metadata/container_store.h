// Containers per namespace, in the metadata database (each row the API's
// Container message, serialized).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "berth/runtime/v1/containers.pb.h"
#include "highlevel-runtime/metadata/metadata_db.h"

namespace berth::runtimed {

class ContainerStore {
 public:
  explicit ContainerStore(MetadataDb& db) : db_(db) {}

  // AlreadyExists for a taken id. Sets created_at and updated_at.
  absl::StatusOr<berth::runtime::v1::Container> Create(const std::string& ns,
                                                       berth::runtime::v1::Container c);
  absl::StatusOr<berth::runtime::v1::Container> Get(const std::string& ns, const std::string& id);
  absl::StatusOr<std::vector<berth::runtime::v1::Container>> List(const std::string& ns);
  // Replaces the row (NotFound if absent); keeps created_at, sets updated_at.
  absl::StatusOr<berth::runtime::v1::Container> Update(const std::string& ns,
                                                       berth::runtime::v1::Container c);
  absl::Status Delete(const std::string& ns, const std::string& id);

 private:
  MetadataDb& db_;
};

}  // namespace berth::runtimed
