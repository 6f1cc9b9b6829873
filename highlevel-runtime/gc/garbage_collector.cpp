#include "highlevel-runtime/gc/garbage_collector.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/status.h"
#include "highlevel-runtime/image/image_config.h"
#include "highlevel-runtime/image/manifest.h"
#include "highlevel-runtime/snapshots/image_unpacker.h"

namespace berth::runtimed {

namespace {

constexpr char kGcRootLabel[] = "containerd.io/gc.root";
constexpr char kGcRefContentLabel[] = "containerd.io/gc.ref.content";

bool IsContentRefLabel(absl::string_view key) {
  return key == kGcRefContentLabel ||
         (absl::StartsWith(key, kGcRefContentLabel) && key[sizeof(kGcRefContentLabel) - 1] == '.');
}

}  // namespace

absl::Status GarbageCollector::FollowContentLabels(std::set<std::string>& blobs) {
  BERTH_ASSIGN_OR_RETURN(auto labels, content_labels_.All());
  for (const auto& [digest, metadata] : labels) {
    if (metadata.labels.count(kGcRootLabel) != 0) blobs.insert(digest);
  }
  std::vector<std::string> todo(blobs.begin(), blobs.end());
  while (!todo.empty()) {
    auto it = labels.find(todo.back());
    todo.pop_back();
    if (it == labels.end()) continue;
    for (const auto& [key, value] : it->second.labels) {
      if (IsContentRefLabel(key) && blobs.insert(value).second) todo.push_back(value);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<GcStats> GarbageCollector::Collect(const std::vector<std::string>& namespaces) {
  // No lease gains a resource until this collection is over.
  auto barrier = leases_.GcBarrier();
  GcStats stats;
  std::set<std::string> blobs;                             // digests kept
  std::map<std::string, std::set<std::string>> snapshots;  // ns -> keys kept
  BERTH_ASSIGN_OR_RETURN(LeasedResources leased, leases_.ExpireAndListLeased(absl::Now()));
  blobs = std::move(leased.content);
  snapshots = std::move(leased.snapshots);
  BERTH_ASSIGN_OR_RETURN(auto images, images_.ListAll());
  for (const auto& [ns, image] : images) {
    blobs.insert(image.target().digest());
    blobs.insert(image.manifest().digest());
    blobs.insert(image.config().digest());
    auto manifest_digest = ParseDigest(image.manifest().digest());
    auto manifest_text = manifest_digest.ok()
                             ? content_.ReadBlob(*manifest_digest)
                             : absl::StatusOr<std::string>(manifest_digest.status());
    auto manifest = manifest_text.ok() ? ParseManifest(*manifest_text)
                                       : absl::StatusOr<Manifest>(manifest_text.status());
    if (manifest.ok()) {
      for (const Descriptor& layer : manifest->layers) blobs.insert(layer.digest);
    }
    auto config_digest = ParseDigest(image.config().digest());
    auto config_text = config_digest.ok() ? content_.ReadBlob(*config_digest)
                                          : absl::StatusOr<std::string>(config_digest.status());
    auto config = config_text.ok() ? ParseImageConfig(*config_text)
                                   : absl::StatusOr<ImageConfig>(config_text.status());
    if (config.ok()) {
      for (const std::string& chain : ChainIds(config->diff_ids)) snapshots[ns].insert(chain);
    }
  }

  for (const std::string& ns : namespaces) {
    BERTH_ASSIGN_OR_RETURN(std::vector<SnapshotInfo> all, snapshots_.List(ns));
    std::map<std::string, const SnapshotInfo*> by_key;
    for (const SnapshotInfo& s : all) by_key[s.key] = &s;
    std::set<std::string>& keep = snapshots[ns];
    // What a container or an unfinished snapshot stands on stays too.
    for (const SnapshotInfo& s : all) {
      if (s.kind == "committed" && keep.count(s.key) == 0) continue;
      for (const SnapshotInfo* p = &s; p != nullptr;) {
        keep.insert(p->key);
        auto it = by_key.find(p->parent);
        p = it == by_key.end() ? nullptr : it->second;
      }
    }
    // Children first: a snapshot is always newer (a higher id) than its parent.
    std::vector<const SnapshotInfo*> doomed;
    for (const SnapshotInfo& s : all) {
      if (keep.count(s.key) == 0) doomed.push_back(&s);
    }
    std::sort(doomed.begin(), doomed.end(),
              [](const SnapshotInfo* a, const SnapshotInfo* b) { return a->id > b->id; });
    for (const SnapshotInfo* s : doomed) {
      absl::Status removed = snapshots_.Remove(ns, s->key);
      if (removed.ok()) {
        ++stats.snapshots_removed;
      } else {
        LogWarn("gc: snapshot {}/{}: {}", ns, s->key, removed.message());
      }
    }
  }

  BERTH_RETURN_IF_ERROR(FollowContentLabels(blobs));
  BERTH_ASSIGN_OR_RETURN(std::vector<ContentInfo> content, content_.List());
  for (const ContentInfo& info : content) {
    if (blobs.count(info.digest.ToString()) != 0) continue;
    absl::Status removed = content_.Delete(info.digest);
    if (removed.ok()) {
      ++stats.blobs_removed;
      stats.bytes_freed += info.size;
      absl::Status forgotten = content_labels_.Delete(info.digest.ToString());
      if (!forgotten.ok()) {
        LogWarn("gc: labels of blob {}: {}", info.digest.ToString(), forgotten.message());
      }
    } else {
      LogWarn("gc: blob {}: {}", info.digest.ToString(), removed.message());
    }
  }
  LogInfo("gc: removed {} blobs ({} bytes) and {} snapshots", stats.blobs_removed,
          stats.bytes_freed, stats.snapshots_removed);
  return stats;
}

}  // namespace berth::runtimed
