#include "highlevel-runtime/pull/image_puller.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/status.h"
#include "highlevel-runtime/registry/blob_downloads.h"

namespace berth::runtimed {

absl::StatusOr<std::unique_ptr<ContentWriter>> ImagePuller::OpenWriter(const Digest& digest) {
  // Another pull may be writing this blob: wait for it to finish (or to give
  // up, leaving the ingest to us) rather than fail. Ten minutes at most.
  for (int waited = 0;; ++waited) {
    if (store_.Has(digest)) return std::unique_ptr<ContentWriter>();
    auto opened = store_.Writer(digest.hex);
    if (opened.ok() || opened.status().code() != absl::StatusCode::kUnavailable || waited >= 6000) {
      return opened;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

absl::Status ImagePuller::StoreManifest(const FetchedManifest& manifest,
                                        const PullOptions& options) {
  if (options.protect) {
    BERTH_RETURN_IF_ERROR(options.protect({manifest.media_type, manifest.digest.ToString(),
                                           static_cast<int64_t>(manifest.body.size())}));
  }
  BERTH_ASSIGN_OR_RETURN(std::unique_ptr<ContentWriter> writer, OpenWriter(manifest.digest));
  if (writer == nullptr) return absl::OkStatus();
  BERTH_RETURN_IF_ERROR(writer->Truncate());
  BERTH_RETURN_IF_ERROR(writer->Write(manifest.body));
  return writer->Commit(manifest.digest, static_cast<int64_t>(manifest.body.size()));
}

namespace {

// One blob being downloaded into its ingest.
struct IngestingBlob {
  Digest digest;
  std::unique_ptr<ContentWriter> writer;
  PullProgress progress;
  int64_t last_report = 0;
};

}  // namespace

absl::Status ImagePuller::StoreBlobs(RegistryClient& client, const std::string& repository,
                                     const std::vector<Descriptor>& blobs,
                                     const PullOptions& options, const ProgressFn& progress) {
  // Blobs another pull is writing wait until ours are done (no pull waits
  // while it holds ingests another may be waiting for).
  std::vector<Descriptor> busy;
  BERTH_RETURN_IF_ERROR(StoreBlobsOnce(client, repository, blobs, options, progress, &busy));
  if (busy.empty()) return absl::OkStatus();
  return StoreBlobsOnce(client, repository, busy, options, progress, nullptr);
}

absl::Status ImagePuller::StoreBlobsOnce(RegistryClient& client, const std::string& repository,
                                         const std::vector<Descriptor>& blobs,
                                         const PullOptions& options, const ProgressFn& progress,
                                         std::vector<Descriptor>* busy) {
  std::vector<std::unique_ptr<IngestingBlob>> ingesting;
  std::vector<BlobDownload> downloads;
  for (const Descriptor& descriptor : blobs) {
    BERTH_ASSIGN_OR_RETURN(Digest digest, ParseDigest(descriptor.digest));
    if (options.protect && busy != nullptr) BERTH_RETURN_IF_ERROR(options.protect(descriptor));
    PullProgress p{descriptor.digest, descriptor.media_type, "exists", descriptor.size,
                   descriptor.size};
    // nullptr: the store has it, or another pull committed it meanwhile.
    std::unique_ptr<ContentWriter> writer;
    if (busy == nullptr) {
      BERTH_ASSIGN_OR_RETURN(writer, OpenWriter(digest));
    } else if (!store_.Has(digest)) {
      auto opened = store_.Writer(digest.hex);
      if (opened.status().code() == absl::StatusCode::kUnavailable) {
        busy->push_back(descriptor);
        continue;
      }
      BERTH_ASSIGN_OR_RETURN(writer, std::move(opened));
    }
    if (writer == nullptr) {
      progress(p);
      continue;
    }
    if (writer->Offset() > descriptor.size) BERTH_RETURN_IF_ERROR(writer->Truncate());
    if (writer->Offset() == descriptor.size && descriptor.size > 0) {
      // Downloaded whole by a pull that stopped before committing: a Range from
      // the end would be refused (416). Commit it; if it is wrong, the ingest
      // goes and the next pull downloads it again.
      absl::Status committed = writer->Commit(digest, descriptor.size);
      if (!committed.ok()) return Annotate(committed, absl::StrCat("blob ", descriptor.digest));
      p.status = "done";
      progress(p);
      continue;
    }
    auto blob = std::make_unique<IngestingBlob>();
    blob->digest = digest;
    blob->writer = std::move(writer);
    blob->progress = p;
    blob->progress.status = "downloading";
    blob->progress.offset = blob->last_report = blob->writer->Offset();
    progress(blob->progress);
    IngestingBlob* b = blob.get();
    BlobDownload download;
    download.digest = digest;
    download.offset = b->writer->Offset();
    download.sink = [b, &progress](const char* data, size_t n) -> absl::Status {
      BERTH_RETURN_IF_ERROR(b->writer->Write(absl::string_view(data, n)));
      b->progress.offset += static_cast<int64_t>(n);
      if (b->progress.offset > b->progress.total) {
        return absl::DataLossError(absl::StrCat(b->progress.digest, ": more than the ",
                                                b->progress.total,
                                                " bytes the manifest announced"));
      }
      if (b->progress.offset - b->last_report >= (1 << 20)) {
        b->last_report = b->progress.offset;
        progress(b->progress);
      }
      return absl::OkStatus();
    };
    download.on_restart = [b]() {
      b->progress.offset = b->last_report = 0;
      return b->writer->Truncate();
    };
    download.on_complete = [b, &progress]() -> absl::Status {
      absl::Status committed = b->writer->Commit(b->digest, b->progress.total);
      if (!committed.ok()) return Annotate(committed, absl::StrCat("blob ", b->progress.digest));
      b->progress.status = "done";
      b->progress.offset = b->progress.total;
      progress(b->progress);
      return absl::OkStatus();
    };
    downloads.push_back(std::move(download));
    ingesting.push_back(std::move(blob));
  }
  // A blob that fails keeps its ingest, for a resumed pull.
  for (const absl::Status& st :
       DownloadBlobs(client, repository, downloads, options.parallel_layers)) {
    BERTH_RETURN_IF_ERROR(st);
  }
  return absl::OkStatus();
}

absl::StatusOr<PulledImage> ImagePuller::Pull(
    const ImageReference& reference, const PullOptions& options,
    const std::function<void(const PullProgress&)>& progress) {
  RegistryOptions registry_options;
  std::string host = RegistryHost(reference);
  registry_options.insecure = options.insecure_registries.count(host) != 0 ||
                              options.insecure_registries.count(reference.domain) != 0;
  registry_options.certs_dir = options.registry_certs_dir;
  registry_options.credentials = options.credentials;
  registry_options.retries = options.retries;
  RegistryClient client(host, registry_options);
  const ProgressFn& report = progress;

  const std::string& repository = reference.path;
  std::string what = reference.digest.empty() ? reference.tag : reference.digest;
  BERTH_ASSIGN_OR_RETURN(FetchedManifest top, client.GetManifest(repository, what));
  PulledImage image;
  image.reference = reference;
  image.target = {top.media_type, top.digest.ToString(), static_cast<int64_t>(top.body.size())};
  report({image.target.digest, top.media_type, "resolved", image.target.size, image.target.size});
  FetchedManifest manifest = top;
  if (IsIndexMediaType(top.media_type)) {
    BERTH_ASSIGN_OR_RETURN(ImageIndex index, ParseIndex(top.body));
    auto chosen = SelectManifest(index.manifests, options.platform);
    if (!chosen.ok()) {
      return absl::NotFoundError(absl::StrCat(reference.String(), ": ", chosen.status().message()));
    }
    BERTH_ASSIGN_OR_RETURN(manifest, client.GetManifest(repository, chosen->digest));
    if (!IsManifestMediaType(manifest.media_type)) {
      return absl::InvalidArgumentError(absl::StrCat(reference.String(), ": ", chosen->digest,
                                                     " is a \"", manifest.media_type,
                                                     "\", not an image manifest"));
    }
    report({chosen->digest, manifest.media_type, "resolved", chosen->size, chosen->size});
  } else if (!IsManifestMediaType(top.media_type)) {
    return absl::InvalidArgumentError(absl::StrCat(
        reference.String(), ": unsupported manifest media type \"", top.media_type, "\""));
  }
  BERTH_ASSIGN_OR_RETURN(image.parsed, ParseManifest(manifest.body));
  image.manifest = {manifest.media_type, manifest.digest.ToString(),
                    static_cast<int64_t>(manifest.body.size())};

  BERTH_RETURN_IF_ERROR(StoreBlobs(client, repository, {image.parsed.config}, options, report));
  BERTH_ASSIGN_OR_RETURN(Digest config_digest, ParseDigest(image.parsed.config.digest));
  BERTH_ASSIGN_OR_RETURN(std::string config_text, store_.ReadBlob(config_digest));
  BERTH_ASSIGN_OR_RETURN(image.config, ParseImageConfig(config_text));
  if (image.config.diff_ids.size() != image.parsed.layers.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(reference.String(), ": the config lists ", image.config.diff_ids.size(),
                     " layers, the manifest ", image.parsed.layers.size()));
  }
  // A manifest without an index is one platform's: the one its config names.
  if (!IsIndexMediaType(top.media_type) &&
      !PlatformMatches(image.config.platform(), options.platform)) {
    return absl::NotFoundError(absl::StrCat(reference.String(), " is for platform ",
                                            image.config.platform().String(), ", not ",
                                            options.platform.String()));
  }
  BERTH_RETURN_IF_ERROR(StoreBlobs(client, repository, image.parsed.layers, options, report));

  // The manifests last: what the store holds for a name is always complete.
  if (manifest.digest.ToString() != top.digest.ToString()) {
    BERTH_RETURN_IF_ERROR(StoreManifest(manifest, options));
  }
  BERTH_RETURN_IF_ERROR(StoreManifest(top, options));
  return image;
}

}  // namespace berth::runtimed
