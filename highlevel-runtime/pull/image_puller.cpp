#include "highlevel-runtime/pull/image_puller.h"

#include <atomic>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/status.h"

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

absl::Status ImagePuller::StoreManifest(const FetchedManifest& manifest) {
  BERTH_ASSIGN_OR_RETURN(std::unique_ptr<ContentWriter> writer, OpenWriter(manifest.digest));
  if (writer == nullptr) return absl::OkStatus();
  BERTH_RETURN_IF_ERROR(writer->Truncate());
  BERTH_RETURN_IF_ERROR(writer->Write(manifest.body));
  return writer->Commit(manifest.digest, static_cast<int64_t>(manifest.body.size()));
}

absl::Status ImagePuller::StoreBlob(RegistryClient& client, const std::string& repository,
                                    const Descriptor& descriptor,
                                    const std::function<void(const PullProgress&)>& progress) {
  BERTH_ASSIGN_OR_RETURN(Digest digest, ParseDigest(descriptor.digest));
  PullProgress p{descriptor.digest, descriptor.media_type, "", 0, descriptor.size};
  if (store_.Has(digest)) {
    p.status = "exists";
    p.offset = descriptor.size;
    progress(p);
    return absl::OkStatus();
  }
  BERTH_ASSIGN_OR_RETURN(std::unique_ptr<ContentWriter> writer, OpenWriter(digest));
  if (writer == nullptr) {  // another pull committed it meanwhile
    p.status = "exists";
    p.offset = descriptor.size;
    progress(p);
    return absl::OkStatus();
  }
  if (writer->Offset() > descriptor.size) BERTH_RETURN_IF_ERROR(writer->Truncate());
  if (writer->Offset() == descriptor.size && descriptor.size > 0) {
    // Downloaded whole by a pull that stopped before committing: a Range from
    // the end would be refused (416). Commit it; if it is wrong, the ingest
    // goes and the next pull downloads it again.
    absl::Status committed = writer->Commit(digest, descriptor.size);
    if (!committed.ok()) return Annotate(committed, absl::StrCat("blob ", descriptor.digest));
    p.status = "done";
    p.offset = descriptor.size;
    progress(p);
    return absl::OkStatus();
  }
  p.status = "downloading";
  p.offset = writer->Offset();
  progress(p);
  int64_t last_report = p.offset;
  auto sink = [&](const char* data, size_t n) -> absl::Status {
    BERTH_RETURN_IF_ERROR(writer->Write(absl::string_view(data, n)));
    p.offset += static_cast<int64_t>(n);
    if (p.offset > descriptor.size) {
      return absl::DataLossError(absl::StrCat(descriptor.digest, ": more than the ",
                                              descriptor.size, " bytes the manifest announced"));
    }
    if (p.offset - last_report >= (1 << 20)) {
      last_report = p.offset;
      progress(p);
    }
    return absl::OkStatus();
  };
  auto restart = [&]() -> absl::Status {
    p.offset = 0;
    return writer->Truncate();
  };
  auto fetched = client.GetBlob(repository, digest, writer->Offset(), sink, restart);
  if (!fetched.ok()) return fetched.status();  // the ingest stays, for a resumed pull
  absl::Status committed = writer->Commit(digest, descriptor.size);
  if (!committed.ok()) return Annotate(committed, absl::StrCat("blob ", descriptor.digest));
  p.status = "done";
  p.offset = descriptor.size;
  progress(p);
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
  std::mutex progress_mutex;
  auto report = [&](const PullProgress& p) {
    std::lock_guard<std::mutex> lock(progress_mutex);
    progress(p);
  };

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

  BERTH_RETURN_IF_ERROR(StoreBlob(client, repository, image.parsed.config, report));
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
  // The layers, a few at a time; each thread has its own client (a copy that
  // carries the token already obtained).
  std::vector<absl::Status> results(image.parsed.layers.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    RegistryClient own = client;
    for (size_t i = next++; i < image.parsed.layers.size(); i = next++) {
      results[i] = StoreBlob(own, repository, image.parsed.layers[i], report);
    }
  };
  std::vector<std::thread> threads;
  int n = std::max(
      1, std::min<int>(options.parallel_layers, static_cast<int>(image.parsed.layers.size())));
  for (int i = 0; i < n; ++i) threads.emplace_back(worker);
  for (std::thread& t : threads) t.join();
  for (const absl::Status& st : results) BERTH_RETURN_IF_ERROR(st);

  // The manifests last: what the store holds for a name is always complete.
  if (manifest.digest.ToString() != top.digest.ToString()) {
    BERTH_RETURN_IF_ERROR(StoreManifest(manifest));
  }
  BERTH_RETURN_IF_ERROR(StoreManifest(top));
  return image;
}

}  // namespace berth::runtimed
