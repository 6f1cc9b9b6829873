// Overlay snapshots, as containerd's overlayfs snapshotter keeps them: each
// snapshot is a directory ROOT/<id>/fs; a committed one is read-only and may
// be the parent of others; an active one is writable (fs is the overlay's
// upper dir, ROOT/<id>/work its work dir); a view is a read-only active one.
// The chain of parents is in the metadata database, per namespace; keys are
// the caller's (image layers use their chain ID). Every change is a
// transaction; directories are created before and removed after their rows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "highlevel-runtime/metadata/metadata_db.h"

namespace berth::runtimed {

struct Mount {
  std::string type;    // "overlay" or "bind"
  std::string source;  // "overlay" or a directory
  std::vector<std::string> options;
};

struct SnapshotInfo {
  std::string key;
  std::string parent;  // "" for none
  std::string kind;    // "committed", "active", "view"
  int64_t id = 0;
};

struct SnapshotUsage {
  int64_t size = 0;    // bytes allocated: st_blocks * 512
  int64_t inodes = 0;  // distinct inodes (hard links count once)
};

class Snapshotter {
 public:
  Snapshotter(MetadataDb& db, std::string root) : db_(db), root_(std::move(root)) {}

  // A new writable snapshot over parent (committed, or ""). AlreadyExists if
  // the key is taken, NotFound if the parent is not a committed snapshot.
  absl::StatusOr<std::vector<Mount>> Prepare(const std::string& ns, const std::string& key,
                                             const std::string& parent);
  // A read-only view of parent.
  absl::StatusOr<std::vector<Mount>> View(const std::string& ns, const std::string& key,
                                          const std::string& parent);
  // Makes the active snapshot `key` a committed one named `name`.
  absl::Status Commit(const std::string& ns, const std::string& name, const std::string& key);
  // The mounts of an active snapshot or view.
  absl::StatusOr<std::vector<Mount>> Mounts(const std::string& ns, const std::string& key);
  // FailedPrecondition while other snapshots have it as their parent.
  absl::Status Remove(const std::string& ns, const std::string& key);
  absl::StatusOr<SnapshotInfo> Stat(const std::string& ns, const std::string& key);
  absl::StatusOr<std::vector<SnapshotInfo>> List(const std::string& ns);
  // What the snapshot's own fs dir takes (its parents' are not counted), as
  // containerd's overlayfs snapshotter measures it: the dir and everything
  // under it, symlinks not followed, each inode once. NotFound without it.
  absl::StatusOr<SnapshotUsage> Usage(const std::string& ns, const std::string& key);
  // The directory that holds a snapshot's files (the upper dir of an active one).
  std::string FsDir(int64_t id) const;

 private:
  absl::StatusOr<std::vector<Mount>> CreateActive(const std::string& ns, const std::string& key,
                                                  const std::string& parent,
                                                  const std::string& kind);
  absl::StatusOr<std::vector<Mount>> MountsFor(const std::string& ns, const SnapshotInfo& info);

  MetadataDb& db_;
  std::string root_;
};

}  // namespace berth::runtimed
