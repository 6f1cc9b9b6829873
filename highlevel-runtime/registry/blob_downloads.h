// Many blob downloads of one repository at once, on one curl multi handle
// (one thread, connections reused across blobs): GET /v2/<repo>/blobs/<digest>
// for each, at most `parallel` transfers at a time. Each blob streams to its
// own sink; a transfer that breaks (connection lost, 5xx) is resumed with
// Range from the last byte delivered, up to RegistryOptions::retries times
// with exponential backoff from retry_delay; a 401 is answered once
// (RegistryClient::Authenticate) and the blob asked again. The client's
// scheme, TLS options and credentials apply to every transfer.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/digest.h"
#include "highlevel-runtime/registry/registry_client.h"

namespace berth::runtimed {

struct BlobDownload {
  Digest digest;
  // Bytes the caller already has: the first request asks for the rest (Range).
  int64_t offset = 0;
  // Each chunk as it arrives, in order; an error stops this blob (not retried).
  std::function<absl::Status(const char*, size_t)> sink;
  // The server ignored a Range and sends the whole blob: drop what you have.
  // Called before any of it reaches sink.
  std::function<absl::Status()> on_restart;
  // Every byte arrived (the caller verifies and commits); an error fails the blob.
  std::function<absl::Status()> on_complete;
};

// Runs every download to its end; one status per download, in order. Called
// from one thread; the callbacks run on it.
std::vector<absl::Status> DownloadBlobs(RegistryClient& client, const std::string& repository,
                                        std::vector<BlobDownload>& downloads, int parallel);

}  // namespace berth::runtimed
