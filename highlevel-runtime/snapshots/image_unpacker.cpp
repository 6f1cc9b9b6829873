#include "highlevel-runtime/snapshots/image_unpacker.h"

#include <fcntl.h>
#include <unistd.h>

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/fd_util.h"
#include "common/log.h"
#include "common/status.h"
#include "highlevel-runtime/unpack/layer_applier.h"

namespace berth::runtimed {

std::vector<std::string> ChainIds(const std::vector<std::string>& diff_ids) {
  std::vector<std::string> chains;
  for (const std::string& diff_id : diff_ids) {
    chains.push_back(
        chains.empty() ? diff_id : Sha256Of(absl::StrCat(chains.back(), " ", diff_id)).ToString());
  }
  return chains;
}

absl::StatusOr<std::string> UnpackImage(Snapshotter& snapshotter, ContentStore& content,
                                        const std::string& ns, const Manifest& manifest,
                                        const ImageConfig& config) {
  if (config.diff_ids.size() != manifest.layers.size()) {
    return absl::InvalidArgumentError(absl::StrCat("the config lists ", config.diff_ids.size(),
                                                   " layers, the manifest ",
                                                   manifest.layers.size()));
  }
  std::vector<std::string> chains = ChainIds(config.diff_ids);
  std::string parent;
  static thread_local std::mt19937_64 random{std::random_device{}()};
  for (size_t i = 0; i < chains.size(); ++i) {
    auto existing = snapshotter.Stat(ns, chains[i]);
    if (existing.ok() && existing->kind == "committed") {
      parent = chains[i];
      continue;
    }
    std::string key = absl::StrFormat("extract-%016x %s", random(), chains[i]);
    BERTH_RETURN_IF_ERROR(snapshotter.Prepare(ns, key, parent).status());
    auto remove = [&] { (void)snapshotter.Remove(ns, key); };
    auto info = snapshotter.Stat(ns, key);
    BERTH_ASSIGN_OR_RETURN(Digest blob, ParseDigest(manifest.layers[i].digest));
    auto fd = OpenFile(content.BlobPath(blob), O_RDONLY | O_CLOEXEC);
    if (!info.ok() || !fd.ok()) {
      remove();
      return !info.ok() ? info.status() : fd.status();
    }
    auto applied = ApplyLayer(fd->Get(), snapshotter.FsDir(info->id));
    if (!applied.ok()) {
      remove();
      return Annotate(applied.status(),
                      absl::StrCat("layer ", i, " (", manifest.layers[i].digest, ")"));
    }
    if (applied->diff_id != config.diff_ids[i]) {
      remove();
      return absl::DataLossError(absl::StrCat("layer ", i, " (", manifest.layers[i].digest,
                                              ") unpacks to ", applied->diff_id,
                                              ", the config says ", config.diff_ids[i]));
    }
    absl::Status committed = snapshotter.Commit(ns, chains[i], key);
    if (!committed.ok()) {
      remove();
      // Another pull unpacked the same layer meanwhile: use theirs.
      if (committed.code() != absl::StatusCode::kAlreadyExists) return committed;
    }
    LogDebug("unpacked layer {} into snapshot {}", manifest.layers[i].digest, chains[i]);
    parent = chains[i];
  }
  return parent;
}

}  // namespace berth::runtimed
