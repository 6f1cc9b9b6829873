// berth.runtime.v1.Images: pull into the content store, unpack into
// snapshots, name images per namespace (the "berth-namespace" metadata key;
// "default" without it).
#pragma once

#include <set>
#include <string>

#include "berth/runtime/v1/images.grpc.pb.h"
#include "highlevel-runtime/content/content_store.h"
#include "highlevel-runtime/events/event_bus.h"
#include "highlevel-runtime/gc/garbage_collector.h"
#include "highlevel-runtime/metadata/image_store.h"
#include "highlevel-runtime/metadata/lease_store.h"
#include "highlevel-runtime/snapshots/snapshotter.h"

namespace berth::runtimed {

inline constexpr char kNamespaceMetadataKey[] = "berth-namespace";
inline constexpr char kDefaultNamespace[] = "default";
// containerd's metadata key for the lease of a call (a pull's).
inline constexpr char kLeaseMetadataKey[] = "containerd-lease";
// How long the lease of a pull outlives a berth-runtimed that died pulling.
inline constexpr absl::Duration kPullLeaseExpiry = absl::Hours(24);

// The namespace of a call, validated like a container id (InvalidArgument).
absl::StatusOr<std::string> CallNamespace(const grpc::ServerContext& context);
grpc::Status ToGrpc(const absl::Status& status);

class ImagesService final : public berth::runtime::v1::Images::Service {
 public:
  ImagesService(ContentStore& content, ImageStore& images, Snapshotter& snapshots, EventBus& events,
                GarbageCollector& gc, LeaseStore& leases, std::set<std::string> insecure)
      : content_(content),
        images_(images),
        snapshots_(snapshots),
        events_(events),
        gc_(gc),
        leases_(leases),
        insecure_(std::move(insecure)) {}

  grpc::Status Pull(grpc::ServerContext* context, const api::PullImageRequest* request,
                    grpc::ServerWriter<api::PullImageEvent>* writer) override;
  grpc::Status List(grpc::ServerContext* context, const api::ListImagesRequest* request,
                    api::ListImagesResponse* response) override;
  grpc::Status Get(grpc::ServerContext* context, const api::GetImageRequest* request,
                   api::Image* response) override;
  grpc::Status Delete(grpc::ServerContext* context, const api::DeleteImageRequest* request,
                      api::DeleteImageResponse* response) override;
  grpc::Status Tag(grpc::ServerContext* context, const api::TagImageRequest* request,
                   api::Image* response) override;

 private:
  ContentStore& content_;
  ImageStore& images_;
  Snapshotter& snapshots_;
  EventBus& events_;
  // The lease a pull's blobs and snapshots go into: the caller's (checked),
  // or a new one of the pull's own (*own set).
  absl::StatusOr<std::string> PullLease(const grpc::ServerContext& context,
                                        const api::PullImageRequest& request, const std::string& ns,
                                        bool* own);

  GarbageCollector& gc_;
  LeaseStore& leases_;
  std::set<std::string> insecure_;
};

}  // namespace berth::runtimed
