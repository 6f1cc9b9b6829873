// Labels of the content store's blobs, by digest, in the metadata database
// (the blobs themselves are files: content/content_store.h). One set for all
// namespaces, as the content store is one for all.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "highlevel-runtime/metadata/labels.h"
#include "highlevel-runtime/metadata/metadata_db.h"

namespace berth::runtimed {

struct ContentMetadata {
  Labels labels;
  std::optional<absl::Time> updated_at;  // when labels were last set; none: never
};

class ContentLabelStore {
 public:
  explicit ContentLabelStore(MetadataDb& db) : db_(db) {}

  // digest: "sha256:<hex>". Nothing stored: no labels, no updated_at.
  absl::StatusOr<ContentMetadata> Get(const std::string& digest);
  // Every blob whose labels were ever set, by digest.
  absl::StatusOr<std::map<std::string, ContentMetadata>> All();
  // Replaces the labels of digest (validated by the caller); returns the
  // time of the change.
  absl::StatusOr<absl::Time> Set(const std::string& digest, const Labels& labels);
  // Forgets digest (its blob is gone); absent is OK.
  absl::Status Delete(const std::string& digest);

 private:
  MetadataDb& db_;
};

}  // namespace berth::runtimed
