#include "highlevel-runtime/content_service.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/fd_util.h"
#include "common/status.h"
#include "highlevel-runtime/images_service.h"

namespace berth::runtimed {
namespace {

api::ContentInfo ToApi(const ContentInfo& info) {
  api::ContentInfo out;
  out.set_digest(info.digest.ToString());
  out.set_size(info.size);
  const int64_t nanos = absl::ToUnixNanos(info.created_at);
  out.mutable_created_at()->set_seconds(nanos / 1000000000);
  out.mutable_created_at()->set_nanos(static_cast<int32_t>(nanos % 1000000000));
  return out;
}

}  // namespace

grpc::Status ContentService::Info(grpc::ServerContext*, const api::InfoContentRequest* request,
                                  api::ContentInfo* response) {
  auto digest = ParseDigest(request->digest());
  if (!digest.ok()) return ToGrpc(digest.status());
  auto info = content_.Info(*digest);
  if (!info.ok()) return ToGrpc(info.status());
  *response = ToApi(*info);
  return grpc::Status::OK;
}

grpc::Status ContentService::List(grpc::ServerContext*, const api::ListContentRequest*,
                                  api::ListContentResponse* response) {
  auto infos = content_.List();
  if (!infos.ok()) return ToGrpc(infos.status());
  for (const ContentInfo& info : *infos) *response->add_info() = ToApi(info);
  return grpc::Status::OK;
}

grpc::Status ContentService::Delete(grpc::ServerContext*, const api::DeleteContentRequest* request,
                                    api::DeleteContentResponse*) {
  auto digest = ParseDigest(request->digest());
  if (!digest.ok()) return ToGrpc(digest.status());
  return ToGrpc(content_.Delete(*digest));
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
