// Leases per namespace, in the metadata database (containerd's model): an id,
// labels, a creation time and the resources it protects from garbage
// collection: content digests, snapshot keys, ingest refs. A lease labelled
// "containerd.io/gc.expire" (an RFC 3339 time) protects nothing after that
// time, and the next collection removes it.
//
// A collection and a resource being added exclude each other (GcBarrier): a
// resource added before a collection starts is seen by it, one added after
// it ends finds the collection done. A pull adds a blob to its lease before
// it looks for the blob in the store, so nothing it relies on goes.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "berth/runtime/v1/leases.pb.h"
#include "highlevel-runtime/metadata/labels.h"
#include "highlevel-runtime/metadata/metadata_db.h"

namespace berth::runtimed {

namespace api = berth::runtime::v1;

inline constexpr char kLeaseExpireLabel[] = "containerd.io/gc.expire";
inline constexpr char kContentResource[] = "content";
inline constexpr char kSnapshotResource[] = "snapshots/overlayfs";
inline constexpr char kIngestResource[] = "ingests";

// When a lease with these labels expires; nullopt: never. InvalidArgument
// for a gc.expire label that is not an RFC 3339 time.
absl::StatusOr<std::optional<absl::Time>> LeaseExpiry(const Labels& labels);

// What unexpired leases protect.
struct LeasedResources {
  std::set<std::string> content;                           // digests
  std::map<std::string, std::set<std::string>> snapshots;  // namespace -> keys
};

class LeaseStore {
 public:
  explicit LeaseStore(MetadataDb& db) : db_(db) {}

  // id empty: a random one. InvalidArgument (bad id, labels or expiry),
  // AlreadyExists.
  absl::StatusOr<api::Lease> Create(const std::string& ns, std::string id, const Labels& labels);
  absl::StatusOr<api::Lease> Get(const std::string& ns, const std::string& id);  // NotFound
  absl::StatusOr<std::vector<api::Lease>> List(const std::string& ns);           // by id
  absl::Status Delete(const std::string& ns, const std::string& id);             // NotFound

  // NotFound (no such lease), InvalidArgument (type or id). Adding twice is OK.
  absl::Status AddResource(const std::string& ns, const std::string& id,
                           const api::Resource& resource);
  absl::Status DeleteResource(const std::string& ns, const std::string& id,
                              const api::Resource& resource);
  absl::StatusOr<std::vector<api::Resource>> ListResources(const std::string& ns,
                                                           const std::string& id);

  // Held by a collection from start to end: AddResource waits meanwhile.
  std::unique_lock<std::shared_mutex> GcBarrier() { return std::unique_lock(gc_mu_); }
  // Removes the leases expired at `now` (every namespace) and returns what the
  // others protect. For a collection holding GcBarrier().
  absl::StatusOr<LeasedResources> ExpireAndListLeased(absl::Time now);

 private:
  absl::StatusOr<bool> Exists(const std::string& ns, const std::string& id);
  MetadataDb& db_;
  std::shared_mutex gc_mu_;
};

}  // namespace berth::runtimed
