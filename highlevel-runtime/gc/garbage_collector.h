// Garbage collection of what no image or container references: blobs in the
// content store (an image keeps its target, its manifest, config and layers)
// and committed snapshots (an image keeps its layers' chain; an active
// snapshot or view, such as a container's, keeps itself and its parents). Pulls hold a shared lease
// for their whole run; a collection takes the lease exclusively, so it never sees a pull's blobs or
// snapshots before the image that names them exists.
#pragma once

#include <cstdint>
#include <shared_mutex>

#include "absl/status/statusor.h"
#include "highlevel-runtime/content/content_store.h"
#include "highlevel-runtime/metadata/image_store.h"
#include "highlevel-runtime/snapshots/snapshotter.h"

namespace berth::runtimed {

struct GcStats {
  int64_t blobs_removed = 0;
  int64_t bytes_freed = 0;
  int64_t snapshots_removed = 0;
};

class GarbageCollector {
 public:
  GarbageCollector(ContentStore& content, ImageStore& images, Snapshotter& snapshots)
      : content_(content), images_(images), snapshots_(snapshots) {}

  // Held by a pull from its first blob until its image is stored.
  std::shared_lock<std::shared_mutex> Lease() { return std::shared_lock(mu_); }
  // `namespaces`: whose snapshots to collect (content is shared by all).
  absl::StatusOr<GcStats> Collect(const std::vector<std::string>& namespaces);

 private:
  ContentStore& content_;
  ImageStore& images_;
  Snapshotter& snapshots_;
  std::shared_mutex mu_;
};

}  // namespace berth::runtimed
