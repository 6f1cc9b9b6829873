#include "highlevel-runtime/content/content_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/fd_util.h"
#include "common/status.h"

namespace berth::runtimed {
namespace {

constexpr size_t kMaxRefLen = 255;  // NAME_MAX: the ref is a file name
constexpr mode_t kBlobMode = 0444;  // content is immutable once committed

bool IsRefChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

absl::Status ValidateRef(absl::string_view ref) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid ingest ref \"", absl::CHexEscape(ref.substr(0, kMaxRefLen)), "\": ", why));
  };
  if (ref.empty()) return bad("must not be empty");
  if (ref.size() > kMaxRefLen) return bad(absl::StrCat("longer than ", kMaxRefLen, " characters"));
  if (ref == "." || ref == "..") return bad("must not be \".\" or \"..\"");
  if (!std::all_of(ref.begin(), ref.end(), IsRefChar)) {
    return bad("only letters, digits, '_', '.' and '-' are allowed");
  }
  return absl::OkStatus();
}

// A Digest is a plain struct: check it before it becomes part of a path.
absl::Status ValidateDigest(const Digest& digest) {
  return ParseDigest(digest.ToString()).status();
}

absl::Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return LastErrnoError(absl::StrCat("create directory ", path));
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return LastErrnoError(absl::StrCat("stat ", path));
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " exists and is not a directory"));
  }
  return absl::OkStatus();
}

absl::Status FsyncDir(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd dir, OpenFile(path, O_RDONLY | O_DIRECTORY));
  if (::fsync(dir.Get()) != 0) return LastErrnoError(absl::StrCat("fsync ", path));
  return absl::OkStatus();
}

absl::Status NotFound(const Digest& digest) {
  return absl::NotFoundError(absl::StrCat("content ", digest.ToString(), " not found"));
}

std::string BaseName(const std::string& path) { return path.substr(path.rfind('/') + 1); }

}  // namespace

ContentWriter::~ContentWriter() = default;  // the ingest stays for a resume

absl::Status ContentWriter::Write(absl::string_view data) {
  if (!fd_) {
    return absl::FailedPreconditionError(
        absl::StrCat("ingest ", ingest_path_, " was already committed or aborted"));
  }
  if (absl::Status st = WriteAll(fd_.Get(), data); !st.ok()) {
    // Cut a partial write back, so that file, offset and hash stay in step.
    if (::ftruncate(fd_.Get(), offset_) != 0) {
      Abort();  // cannot trust the ingest any more
    }
    return Annotate(st, absl::StrCat("write ingest ", ingest_path_));
  }
  hash_->Update(data);
  offset_ += static_cast<int64_t>(data.size());
  return absl::OkStatus();
}

absl::Status ContentWriter::Truncate() {
  if (!fd_) {
    return absl::FailedPreconditionError(
        absl::StrCat("ingest ", ingest_path_, " was already committed or aborted"));
  }
  if (::ftruncate(fd_.Get(), 0) != 0) {
    return LastErrnoError(absl::StrCat("truncate ingest ", ingest_path_));
  }
  hash_ = std::make_unique<Sha256>();
  offset_ = 0;
  return absl::OkStatus();
}

absl::Status ContentWriter::Commit(const Digest& expected, int64_t expected_size) {
  if (!fd_) {
    return absl::FailedPreconditionError(
        absl::StrCat("ingest ", ingest_path_, " was already committed or aborted"));
  }
  BERTH_RETURN_IF_ERROR(ValidateDigest(expected));
  const std::string ref = BaseName(ingest_path_);
  if (expected_size >= 0 && offset_ < expected_size) {
    // Short: the ingest stays, so that the rest can still be written.
    return absl::FailedPreconditionError(absl::StrCat("commit ", expected.ToString(),
                                                      " from ingest \"", ref, "\": have ", offset_,
                                                      " bytes, expected ", expected_size));
  }
  if (expected_size >= 0 && offset_ > expected_size) {
    int64_t have = offset_;
    Abort();
    return absl::FailedPreconditionError(
        absl::StrCat("commit ", expected.ToString(), " from ingest \"", ref, "\": have ", have,
                     " bytes, expected ", expected_size, " (ingest removed)"));
  }
  Digest actual = hash_->Finish();
  if (!(actual == expected)) {
    Abort();
    return absl::FailedPreconditionError(
        absl::StrCat("commit ingest \"", ref, "\": content digest ", actual.ToString(),
                     " does not match the expected ", expected.ToString(), " (ingest removed)"));
  }
  // From here the ingest holds exactly the expected content; on a failure it
  // stays, and the caller may retry (reopening the ref rehashes it).
  auto close_keep = [&](absl::Status st) {
    fd_.Reset();
    return st;
  };
  if (::fchmod(fd_.Get(), kBlobMode) != 0) {
    return close_keep(LastErrnoError(absl::StrCat("chmod ingest ", ingest_path_)));
  }
  if (::fsync(fd_.Get()) != 0) {
    return close_keep(LastErrnoError(absl::StrCat("fsync ingest ", ingest_path_)));
  }
  const std::string blob_path = absl::StrCat(blobs_dir_, "/", expected.hex);
  if (::renameat2(AT_FDCWD, ingest_path_.c_str(), AT_FDCWD, blob_path.c_str(), RENAME_NOREPLACE) !=
      0) {
    int err = errno;
    if (err == EEXIST) {
      // Already committed (by another pull): same digest, same bytes.
      Abort();
      return absl::OkStatus();
    }
    if (err != EINVAL) {
      return close_keep(ErrnoError(err, absl::StrCat("rename ", ingest_path_, " to ", blob_path)));
    }
    // The filesystem lacks RENAME_NOREPLACE: replacing equal content is harmless.
    if (::rename(ingest_path_.c_str(), blob_path.c_str()) != 0) {
      return close_keep(LastErrnoError(absl::StrCat("rename ", ingest_path_, " to ", blob_path)));
    }
  }
  fd_.Reset();
  return FsyncDir(blobs_dir_);
}

void ContentWriter::Abort() {
  fd_.Reset();
  ::unlink(ingest_path_.c_str());  // ENOENT: already gone, which is the goal
}

absl::StatusOr<ContentStore> ContentStore::Open(const std::string& root) {
  if (root.empty()) return absl::InvalidArgumentError("content store root must not be empty");
  std::error_code ec;
  std::filesystem::create_directories(root, ec);  // the root's parents too, as mkdir -p
  if (ec) return ErrnoError(ec.value(), absl::StrCat("create directory ", root));
  for (const std::string& dir :
       {root, absl::StrCat(root, "/blobs"), absl::StrCat(root, "/blobs/sha256"),
        absl::StrCat(root, "/ingest")}) {
    BERTH_RETURN_IF_ERROR(MakeDir(dir));
  }
  return ContentStore(root);
}

absl::StatusOr<std::unique_ptr<ContentWriter>> ContentStore::Writer(absl::string_view ref) {
  BERTH_RETURN_IF_ERROR(ValidateRef(ref));
  std::unique_ptr<ContentWriter> writer(new ContentWriter());
  writer->ingest_path_ = absl::StrCat(root_, "/ingest/", ref);
  writer->blobs_dir_ = absl::StrCat(root_, "/blobs/sha256");
  BERTH_ASSIGN_OR_RETURN(
      writer->fd_, OpenFile(writer->ingest_path_, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW, 0644));
  // One writer per ref at a time (also across processes); the lock goes with
  // the fd, so a killed writer never leaves it held.
  if (::flock(writer->fd_.Get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return absl::UnavailableError(
          absl::StrCat("ingest ref \"", ref, "\" is being written by another writer"));
    }
    return LastErrnoError(absl::StrCat("lock ingest ", writer->ingest_path_));
  }
  // Resume: hash what an earlier writer left.
  writer->hash_ = std::make_unique<Sha256>();
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::pread(writer->fd_.Get(), buf, sizeof buf, writer->offset_);
    if (n < 0) {
      if (errno == EINTR) continue;
      return LastErrnoError(absl::StrCat("read ingest ", writer->ingest_path_));
    }
    if (n == 0) break;
    writer->hash_->Update(absl::string_view(buf, static_cast<size_t>(n)));
    writer->offset_ += n;
  }
  return writer;
}

std::string ContentStore::BlobPath(const Digest& digest) const {
  return absl::StrCat(root_, "/blobs/", digest.algorithm, "/", digest.hex);
}

absl::StatusOr<ContentInfo> ContentStore::Info(const Digest& digest) const {
  BERTH_RETURN_IF_ERROR(ValidateDigest(digest));
  std::string path = BlobPath(digest);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return NotFound(digest);
    return LastErrnoError(absl::StrCat("stat ", path));
  }
  return ContentInfo{digest, static_cast<int64_t>(st.st_size), absl::TimeFromTimespec(st.st_mtim)};
}

bool ContentStore::Has(const Digest& digest) const { return Info(digest).ok(); }

absl::StatusOr<std::vector<ContentInfo>> ContentStore::List() const {
  std::string dir = absl::StrCat(root_, "/blobs/sha256");
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return LastErrnoError(absl::StrCat("open directory ", dir));
  std::vector<ContentInfo> out;
  absl::Status status;
  for (;;) {
    errno = 0;
    struct dirent* e = ::readdir(d);
    if (e == nullptr) {
      if (errno != 0) status = LastErrnoError(absl::StrCat("read directory ", dir));
      break;
    }
    auto digest = ParseDigest(absl::StrCat("sha256:", e->d_name));
    if (!digest.ok()) continue;  // ".", "..", or a stray file that is no blob
    auto info = Info(*digest);
    if (info.ok()) {
      out.push_back(*std::move(info));
    } else if (info.status().code() != absl::StatusCode::kNotFound) {  // NotFound: just deleted
      status = info.status();
      break;
    }
  }
  ::closedir(d);
  if (!status.ok()) return status;
  std::sort(out.begin(), out.end(),
            [](const ContentInfo& a, const ContentInfo& b) { return a.digest.hex < b.digest.hex; });
  return out;
}

absl::Status ContentStore::Delete(const Digest& digest) {
  BERTH_RETURN_IF_ERROR(ValidateDigest(digest));
  std::string path = BlobPath(digest);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return NotFound(digest);
    return LastErrnoError(absl::StrCat("remove ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ContentStore::ReadBlob(const Digest& digest) const {
  BERTH_RETURN_IF_ERROR(ValidateDigest(digest));
  auto data = ReadFileToString(BlobPath(digest));
  if (!data.ok() && data.status().code() == absl::StatusCode::kNotFound) return NotFound(digest);
  return data;
}

}  // namespace berth::runtimed
