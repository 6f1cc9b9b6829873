// Image names per namespace, in the metadata database.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "berth/runtime/v1/images.pb.h"
#include "highlevel-runtime/metadata/metadata_db.h"

namespace berth::runtimed {

namespace api = berth::runtime::v1;

class ImageStore {
 public:
  explicit ImageStore(MetadataDb& db) : db_(db) {}

  // Creates or replaces the image named image.name(); a replaced image keeps
  // its created_at. Timestamps are set here. Returns what was stored.
  absl::StatusOr<api::Image> Put(const std::string& ns, api::Image image);
  absl::StatusOr<api::Image> Get(const std::string& ns, const std::string& name);  // NotFound
  absl::StatusOr<std::vector<api::Image>> List(const std::string& ns);
  // Every namespace's images, as (namespace, image).
  absl::StatusOr<std::vector<std::pair<std::string, api::Image>>> ListAll();  // by name
  absl::Status Delete(const std::string& ns, const std::string& name);        // NotFound

 private:
  MetadataDb& db_;
};

}  // namespace berth::runtimed
