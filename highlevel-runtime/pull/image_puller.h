// Pulls an image from a registry into the content store: the manifest the
// reference names (an index is resolved to the manifest of the requested
// platform), the config, and the layers, several at a time on one curl multi
// handle (registry/blob_downloads.h). Blobs already in the store are not
// fetched again; an interrupted blob download continues from its ingest
// (Range); every blob is hashed while it streams and verified against its
// digest before it is committed.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "highlevel-runtime/content/content_store.h"
#include "highlevel-runtime/image/image_config.h"
#include "highlevel-runtime/image/manifest.h"
#include "highlevel-runtime/image/reference.h"
#include "highlevel-runtime/registry/registry_client.h"

namespace berth::runtimed {

struct PullProgress {
  std::string digest;
  std::string media_type;
  // "resolved" (a manifest or index was fetched), "exists" (already stored),
  // "downloading", "done".
  std::string status;
  int64_t offset = 0;
  int64_t total = 0;
};

struct PulledImage {
  ImageReference reference;
  Descriptor target;    // what the reference resolves to: an index or a manifest
  Descriptor manifest;  // the platform's manifest
  Manifest parsed;      // its config and layers
  ImageConfig config;   // the config blob, parsed
};

struct PullOptions {
  Platform platform = HostPlatform();
  // Hosts whose TLS certificate is not verified, and which may be spoken to
  // over plain HTTP (docker's insecure registries).
  std::set<std::string> insecure_registries;
  // Docker's certs.d: <dir>/<host:port>/{*.crt, NAME.cert + NAME.key}.
  std::string registry_certs_dir = DefaultRegistryCertsDir();
  std::optional<RegistryCredentials> credentials;
  // Layer transfers at once.
  int parallel_layers = 4;
  int retries = 3;
  // Called with every blob (manifests, config, layers) before the pull looks
  // for it in the store or writes it: the caller's lease takes it there, so a
  // garbage collection meanwhile keeps it. An error stops the pull.
  std::function<absl::Status(const Descriptor&)> protect;
};

class ImagePuller {
 public:
  explicit ImagePuller(ContentStore& store) : store_(store) {}

  // progress is called on the calling thread.
  absl::StatusOr<PulledImage> Pull(const ImageReference& reference, const PullOptions& options,
                                   const std::function<void(const PullProgress&)>& progress);

 private:
  using ProgressFn = std::function<void(const PullProgress&)>;
  // Downloads the blobs not yet stored, side by side, and commits each.
  absl::Status StoreBlobs(RegistryClient& client, const std::string& repository,
                          const std::vector<Descriptor>& blobs, const PullOptions& options,
                          const ProgressFn& progress);
  // One round: blobs whose ingest another pull holds go to *busy (nullptr:
  // wait for them).
  absl::Status StoreBlobsOnce(RegistryClient& client, const std::string& repository,
                              const std::vector<Descriptor>& blobs, const PullOptions& options,
                              const ProgressFn& progress, std::vector<Descriptor>* busy);
  absl::Status StoreManifest(const FetchedManifest& manifest, const PullOptions& options);
  // A writer for digest, or nullptr once the blob is in the store.
  absl::StatusOr<std::unique_ptr<ContentWriter>> OpenWriter(const Digest& digest);

  ContentStore& store_;
};

}  // namespace berth::runtimed
