#include "highlevel-runtime/content_service.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fd_util.h"
#include "common/status.h"
#include "highlevel-runtime/filters.h"
#include "highlevel-runtime/images_service.h"

namespace berth::runtimed {
namespace {

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t nanos = absl::ToUnixNanos(t);
  out->set_seconds(nanos / 1000000000);
  out->set_nanos(static_cast<int32_t>(nanos % 1000000000));
}

api::ContentInfo ToApi(const ContentInfo& info, const Labels& labels,
                       std::optional<absl::Time> updated_at) {
  api::ContentInfo out;
  out.set_digest(info.digest.ToString());
  out.set_size(info.size);
  SetTime(info.created_at, out.mutable_created_at());
  SetTime(updated_at.value_or(info.created_at), out.mutable_updated_at());
  for (const auto& [k, v] : labels) (*out.mutable_labels())[k] = v;
  return out;
}

const FilterSchema& ContentFilterSchema() {
  static const FilterSchema* schema = new FilterSchema{"content", {"digest", "size"}};
  return *schema;
}

std::optional<std::string> ContentField(const api::ContentInfo& info,
                                        const Filter::FieldPath& path) {
  if (path[0] == "labels") return Filter::Label(info.labels(), path);
  if (path.size() == 1 && path[0] == "digest") return info.digest();
  if (path.size() == 1 && path[0] == "size") return std::to_string(info.size());
  return std::nullopt;
}

// The labels an Update leaves, as containerd's content store computes them.
absl::StatusOr<Labels> UpdatedLabels(const std::string& digest, Labels labels,
                                     const api::UpdateContentRequest& request) {
  Labels given = ToLabels(request.info().labels());
  if (request.update_mask().paths().empty()) return given;
  for (const std::string& path : request.update_mask().paths()) {
    if (path == "labels") {
      labels = given;
    } else if (absl::StartsWith(path, "labels.") && path.size() > 7) {
      std::string key = path.substr(7);
      if (auto it = given.find(key); it != given.end()) {
        labels[key] = it->second;
      } else {
        labels.erase(key);
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("cannot update \"", path, "\" of content ",
                                                     digest,
                                                     ": the mask may name labels or labels.KEY"));
    }
  }
  return labels;
}

}  // namespace

grpc::Status ContentService::Info(grpc::ServerContext*, const api::InfoContentRequest* request,
                                  api::ContentInfo* response) {
  auto digest = ParseDigest(request->digest());
  if (!digest.ok()) return ToGrpc(digest.status());
  auto info = content_.Info(*digest);
  if (!info.ok()) return ToGrpc(info.status());
  auto metadata = labels_.Get(digest->ToString());
  if (!metadata.ok()) return ToGrpc(metadata.status());
  *response = ToApi(*info, metadata->labels, metadata->updated_at);
  return grpc::Status::OK;
}

grpc::Status ContentService::List(grpc::ServerContext*, const api::ListContentRequest* request,
                                  api::ListContentResponse* response) {
  auto filter =
      Filter::Parse(std::vector<std::string>(request->filters().begin(), request->filters().end()),
                    ContentFilterSchema());
  if (!filter.ok()) return ToGrpc(filter.status());
  auto infos = content_.List();
  if (!infos.ok()) return ToGrpc(infos.status());
  auto labels = labels_.All();
  if (!labels.ok()) return ToGrpc(labels.status());
  for (const ContentInfo& info : *infos) {
    auto it = labels->find(info.digest.ToString());
    api::ContentInfo out = it == labels->end()
                               ? ToApi(info, Labels(), std::nullopt)
                               : ToApi(info, it->second.labels, it->second.updated_at);
    if (filter->Matches([&](const Filter::FieldPath& path) { return ContentField(out, path); })) {
      *response->add_info() = std::move(out);
    }
  }
  return grpc::Status::OK;
}

grpc::Status ContentService::Update(grpc::ServerContext*, const api::UpdateContentRequest* request,
                                    api::ContentInfo* response) {
  auto digest = ParseDigest(request->info().digest());
  if (!digest.ok()) return ToGrpc(digest.status());
  auto info = content_.Info(*digest);
  if (!info.ok()) return ToGrpc(info.status());
  auto current = labels_.Get(digest->ToString());
  if (!current.ok()) return ToGrpc(current.status());
  auto updated = UpdatedLabels(digest->ToString(), current->labels, *request);
  if (!updated.ok()) return ToGrpc(updated.status());
  absl::Status valid = ValidateLabels(*updated, absl::StrCat("content ", digest->ToString()));
  if (!valid.ok()) return ToGrpc(valid);
  auto when = labels_.Set(digest->ToString(), *updated);
  if (!when.ok()) return ToGrpc(when.status());
  *response = ToApi(*info, *updated, *when);
  return grpc::Status::OK;
}

grpc::Status ContentService::Delete(grpc::ServerContext*, const api::DeleteContentRequest* request,
                                    api::DeleteContentResponse*) {
  auto digest = ParseDigest(request->digest());
  if (!digest.ok()) return ToGrpc(digest.status());
  absl::Status deleted = content_.Delete(*digest);
  if (!deleted.ok()) return ToGrpc(deleted);
  return ToGrpc(labels_.Delete(digest->ToString()));
}

grpc::Status ContentService::Read(grpc::ServerContext* context,
                                  const api::ReadContentRequest* request,
                                  grpc::ServerWriter<api::ReadContentResponse>* writer) {
  auto digest = ParseDigest(request->digest());
  if (!digest.ok()) return ToGrpc(digest.status());
  if (request->offset() < 0 || request->size() < 0) {
    return ToGrpc(absl::InvalidArgumentError(
        absl::StrCat("read ", digest->ToString(), ": negative offset or size")));
  }
  // One open file from here: a Delete meanwhile does not cut the stream short.
  const std::string path = content_.BlobPath(*digest);
  auto fd = OpenFile(path, O_RDONLY | O_NOFOLLOW);
  if (!fd.ok()) {
    if (ErrnoOf(fd.status()) == ENOENT) {
      return ToGrpc(
          absl::NotFoundError(absl::StrCat("content ", digest->ToString(), " not found")));
    }
    return ToGrpc(fd.status());
  }
  struct stat st;
  if (::fstat(fd->Get(), &st) != 0) return ToGrpc(LastErrnoError(absl::StrCat("stat ", path)));
  const int64_t blob_size = st.st_size;
  int64_t offset = request->offset();
  if (offset > blob_size) {
    return ToGrpc(
        absl::OutOfRangeError(absl::StrCat("read ", digest->ToString(), " at offset ", offset,
                                           ": the blob has ", blob_size, " bytes")));
  }
  int64_t end = blob_size;
  if (request->size() > 0 && request->size() < blob_size - offset) end = offset + request->size();
  std::string buf;
  api::ReadContentResponse chunk;
  while (offset < end) {
    if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    buf.resize(static_cast<size_t>(std::min(kReadChunk, end - offset)));
    ssize_t n = ::pread(fd->Get(), buf.data(), buf.size(), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ToGrpc(LastErrnoError(absl::StrCat("read ", path)));
    }
    if (n == 0) {
      return ToGrpc(
          absl::DataLossError(absl::StrCat("read ", path, ": ends at ", offset, ", before ", end)));
    }
    chunk.set_offset(offset);
    chunk.set_data(buf.data(), static_cast<size_t>(n));
    if (!writer->Write(chunk)) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
    }
    offset += n;
  }
  return grpc::Status::OK;
}

}  // namespace berth::runtimed
