// The content store: blobs addressed by digest under ROOT/blobs/sha256/<hex>,
// as an OCI image layout keeps them. Content comes in through a Writer that
// appends to an ingest file (ROOT/ingest/<ref>), hashing as it goes; Commit
// verifies digest and size, fsyncs, and renames into place, so a wrong or
// partial blob is never visible and a kill -9 at any instant leaves the store
// consistent. An ingest survives its Writer (and the process): reopening the
// same ref continues at its current offset (a pull resumed with Range).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/digest.h"
#include "common/unique_fd.h"

namespace berth::runtimed {

struct ContentInfo {
  Digest digest;
  int64_t size = 0;
  absl::Time created_at;  // the blob file's mtime
};

class ContentWriter {
 public:
  ~ContentWriter();
  ContentWriter(const ContentWriter&) = delete;
  ContentWriter& operator=(const ContentWriter&) = delete;

  // Bytes already in the ingest (0 for a new one): where to resume from.
  int64_t Offset() const { return offset_; }
  absl::Status Write(absl::string_view data);
  // Drops what was written so far (a resume that the server refused).
  absl::Status Truncate();
  // Verifies the digest (and size, when >= 0), fsyncs, renames into
  // blobs/sha256/<hex>, fsyncs the directory. FailedPrecondition with both
  // digests on a mismatch; the ingest is then removed. Committing content that
  // already exists is OK (AlreadyExists is not an error here). Fewer bytes than
  // expected_size is FailedPrecondition too, but keeps the ingest and the
  // writer open for the rest; more bytes removes the ingest.
  absl::Status Commit(const Digest& expected, int64_t expected_size);
  // Removes the ingest.
  void Abort();

 private:
  friend class ContentStore;
  ContentWriter() = default;
  std::string ingest_path_, blobs_dir_;
  UniqueFd fd_;
  int64_t offset_ = 0;
  std::unique_ptr<Sha256> hash_;
};

class ContentStore {
 public:
  // Creates ROOT/blobs/sha256 and ROOT/ingest as needed.
  static absl::StatusOr<ContentStore> Open(const std::string& root);

  // ref: a caller-chosen name for the ingest (e.g. the expected digest's hex);
  // only [A-Za-z0-9_.-] allowed. Reopening a ref resumes it (hashing what is
  // already there first).
  absl::StatusOr<std::unique_ptr<ContentWriter>> Writer(absl::string_view ref);

  absl::StatusOr<ContentInfo> Info(const Digest& digest) const;  // NotFound if absent
  bool Has(const Digest& digest) const;
  absl::StatusOr<std::vector<ContentInfo>> List() const;
  absl::Status Delete(const Digest& digest);  // NotFound if absent
  std::string BlobPath(const Digest& digest) const;
  absl::StatusOr<std::string> ReadBlob(const Digest& digest) const;  // whole blob (manifests)

  const std::string& root() const { return root_; }

 private:
  explicit ContentStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace berth::runtimed
