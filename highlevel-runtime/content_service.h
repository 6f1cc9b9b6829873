// berth.runtime.v1.Content: the content store's blobs by digest, and their
// labels (metadata/content_label_store.h). The store is shared by all
// namespaces: calls ignore "berth-namespace" (containerd partitions its store
// with labels per namespace; berth does not, so labels are one set for all).
#pragma once

#include "berth/runtime/v1/content.grpc.pb.h"
#include "highlevel-runtime/content/content_store.h"
#include "highlevel-runtime/metadata/content_label_store.h"
#include "highlevel-runtime/metadata/image_store.h"  // namespace api

namespace berth::runtimed {

class ContentService final : public berth::runtime::v1::Content::Service {
 public:
  // The largest data of one ReadContentResponse.
  static constexpr int64_t kReadChunk = 1 << 20;

  ContentService(ContentStore& content, ContentLabelStore& labels)
      : content_(content), labels_(labels) {}

  grpc::Status Info(grpc::ServerContext* context, const api::InfoContentRequest* request,
                    api::ContentInfo* response) override;
  grpc::Status List(grpc::ServerContext* context, const api::ListContentRequest* request,
                    api::ListContentResponse* response) override;
  grpc::Status Update(grpc::ServerContext* context, const api::UpdateContentRequest* request,
                      api::ContentInfo* response) override;
  grpc::Status Delete(grpc::ServerContext* context, const api::DeleteContentRequest* request,
                      api::DeleteContentResponse* response) override;
  grpc::Status Read(grpc::ServerContext* context, const api::ReadContentRequest* request,
                    grpc::ServerWriter<api::ReadContentResponse>* writer) override;

 private:
  ContentStore& content_;
  ContentLabelStore& labels_;
};

}  // namespace berth::runtimed
