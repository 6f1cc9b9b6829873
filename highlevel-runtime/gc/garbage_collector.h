// Garbage collection of what no image or container references: blobs in the
// content store (an image keeps its target, its manifest, config and layers)
// and committed snapshots (an image keeps its layers' chain; an active
// snapshot or view, such as a container's, keeps itself and its parents).
// Leases (metadata/lease_store.h) keep what they list: a pull's lease holds
// its blobs and snapshots until the image that names them exists; an expired
// lease keeps nothing and is removed. Content labels keep more, as
// containerd's do: a kept blob labelled "containerd.io/gc.ref.content" or
// "containerd.io/gc.ref.content.<anything>" keeps the blob whose digest the
// label holds (and so on), and a blob labelled "containerd.io/gc.root" is
// kept. A collection holds the lease store's GcBarrier for its whole run.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "highlevel-runtime/content/content_store.h"
#include "highlevel-runtime/metadata/content_label_store.h"
#include "highlevel-runtime/metadata/image_store.h"
#include "highlevel-runtime/metadata/lease_store.h"
#include "highlevel-runtime/snapshots/snapshotter.h"

namespace berth::runtimed {

struct GcStats {
  int64_t blobs_removed = 0;
  int64_t bytes_freed = 0;
  int64_t snapshots_removed = 0;
};

class GarbageCollector {
 public:
  GarbageCollector(ContentStore& content, ContentLabelStore& content_labels, ImageStore& images,
                   Snapshotter& snapshots, LeaseStore& leases)
      : content_(content),
        content_labels_(content_labels),
        images_(images),
        snapshots_(snapshots),
        leases_(leases) {}

  // `namespaces`: whose snapshots to collect (content is shared by all).
  absl::StatusOr<GcStats> Collect(const std::vector<std::string>& namespaces);

 private:
  // Adds what the labels of kept blobs keep to `blobs`.
  absl::Status FollowContentLabels(std::set<std::string>& blobs);

  ContentStore& content_;
  ContentLabelStore& content_labels_;
  ImageStore& images_;
  Snapshotter& snapshots_;
  LeaseStore& leases_;
};

}  // namespace berth::runtimed
