// Unpacks an image layer (a tar stream, gzip/zstd/uncompressed) into the upper
// directory of a new overlay snapshot, converting OCI whiteouts into overlayfs
// whiteouts, and computing the layer's diff_id on the way.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace berth::runtimed {

struct ApplyStats {
  int64_t entries = 0;  // tar entries read (whiteouts included)
  int64_t bytes = 0;    // size of the uncompressed tar stream (what diff_id covers)
  std::string diff_id;  // "sha256:<hex>" of the uncompressed tar stream
};

// Applies the layer read from layer_fd (a blob file, read from its current
// offset to EOF; not closed) onto the empty directory `target` (the new
// snapshot's upper dir), so that `target` stacked over the parents' dirs with
// overlayfs gives the layer's filesystem:
//  - `dir/.wh.name` becomes a 0/0 character device `dir/name` (an overlay
//    whiteout); `dir/.wh..wh..opq` sets trusted.overlay.opaque=y on `dir`;
//  - ownership (numeric), modes (setuid bits included), xattrs and times are
//    kept (a "./" entry's go to `target` itself, the upper root); trusted.overlay.* xattrs in the
//    layer are ignored (a layer states whiteouts with .wh. entries, never with overlay's private
//    attributes);
//  - a leading "/" or "./" is stripped; an entry that climbs above `target`
//    with "..", whose parent directory is a symlink, or a hardlink whose
//    target lies outside `target`, fails the whole apply with InvalidArgument
//    naming the entry, and nothing is written outside `target`.
// Needs root (chown, mknod, trusted.* xattrs). On error `target` holds a
// partial layer: the caller discards the snapshot.
absl::StatusOr<ApplyStats> ApplyLayer(int layer_fd, const std::string& target);

}  // namespace berth::runtimed
