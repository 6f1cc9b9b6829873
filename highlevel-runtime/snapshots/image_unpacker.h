// Unpacks a pulled image's layers into committed snapshots named by chain ID
// (the OCI image spec's: ChainID(L0) = DiffID(L0), ChainID(Ln) =
// sha256(ChainID(Ln-1) + " " + DiffID(Ln))), so images sharing base layers
// share their snapshots. Each layer is applied into a fresh active snapshot
// over its parent, its uncompressed digest checked against the config's
// diff_id, then committed; a layer already unpacked is skipped.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "highlevel-runtime/content/content_store.h"
#include "highlevel-runtime/image/image_config.h"
#include "highlevel-runtime/image/manifest.h"
#include "highlevel-runtime/snapshots/snapshotter.h"

namespace berth::runtimed {

std::vector<std::string> ChainIds(const std::vector<std::string>& diff_ids);

// Returns the chain ID of the top layer (the parent for a container's
// snapshot), or "" for an image without layers.
absl::StatusOr<std::string> UnpackImage(Snapshotter& snapshotter, ContentStore& content,
                                        const std::string& ns, const Manifest& manifest,
                                        const ImageConfig& config);

}  // namespace berth::runtimed
