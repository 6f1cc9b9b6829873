// Pulls an image from a registry into the content store: the manifest the
// reference names (an index is resolved to the manifest of the requested
// platform), the config, and the layers, several at a time. Blobs already in
// the store are not fetched again; an interrupted blob download continues
// from its ingest (Range); every blob is verified against its digest before
// it is committed.
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
  int parallel_layers = 3;
  int retries = 3;
};

class ImagePuller {
 public:
  explicit ImagePuller(ContentStore& store) : store_(store) {}

  // progress is called from the pulling threads, one call at a time.
  absl::StatusOr<PulledImage> Pull(const ImageReference& reference, const PullOptions& options,
                                   const std::function<void(const PullProgress&)>& progress);

 private:
  absl::Status StoreBlob(RegistryClient& client, const std::string& repository,
                         const Descriptor& descriptor,
                         const std::function<void(const PullProgress&)>& progress);
  absl::Status StoreManifest(const FetchedManifest& manifest);
  // A writer for digest, or nullptr once the blob is in the store.
  absl::StatusOr<std::unique_ptr<ContentWriter>> OpenWriter(const Digest& digest);

  ContentStore& store_;
};

}  // namespace berth::runtimed
