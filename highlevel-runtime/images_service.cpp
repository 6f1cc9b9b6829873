#include "highlevel-runtime/images_service.h"

#include <optional>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "berth/runtime/v1/events.pb.h"
#include "common/log.h"
#include "common/status.h"
#include "highlevel-runtime/filters.h"
#include "highlevel-runtime/metadata/identifier.h"
#include "highlevel-runtime/pull/image_puller.h"
#include "highlevel-runtime/snapshots/image_unpacker.h"

namespace berth::runtimed {
namespace {

api::Descriptor ToApi(const Descriptor& d) {
  api::Descriptor out;
  out.set_media_type(d.media_type);
  out.set_digest(d.digest);
  out.set_size(d.size);
  return out;
}

// A name as the store keys it: the normalized reference.
absl::StatusOr<std::string> NormalizedName(const std::string& text) {
  BERTH_ASSIGN_OR_RETURN(ImageReference ref, ParseImageReference(text));
  return ref.String();
}

const FilterSchema& ImageFilterSchema() {
  static const FilterSchema* schema = new FilterSchema{
      "images", {"name", "platform", "target.digest", "target.media_type", "target.mediatype"}};
  return *schema;
}

// An image's field for a filter; as in containerd, an empty one is absent.
std::optional<std::string> ImageField(const api::Image& image, const Filter::FieldPath& path) {
  std::optional<std::string> value;
  if (path[0] == "labels") {
    value = Filter::Label(image.labels(), path);
  } else if (path.size() == 1 && path[0] == "name") {
    value = image.name();
  } else if (path.size() == 1 && path[0] == "platform") {
    value = image.platform();
  } else if (path.size() == 2 && path[0] == "target" && path[1] == "digest") {
    value = image.target().digest();
  } else if (path.size() == 2 && path[0] == "target" &&
             (path[1] == "media_type" || path[1] == "mediatype")) {
    value = image.target().media_type();
  }
  if (value && value->empty()) return std::nullopt;
  return value;
}

}  // namespace

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

absl::StatusOr<std::string> CallNamespace(const grpc::ServerContext& context) {
  auto it = context.client_metadata().find(kNamespaceMetadataKey);
  if (it == context.client_metadata().end()) return std::string(kDefaultNamespace);
  std::string ns(it->second.data(), it->second.size());
  BERTH_RETURN_IF_ERROR(ValidateIdentifier(ns, "namespace"));
  return ns;
}

absl::StatusOr<std::string> ImagesService::PullLease(const grpc::ServerContext& context,
                                                     const api::PullImageRequest& request,
                                                     const std::string& ns, bool* own) {
  std::string id = request.lease();
  if (auto it = context.client_metadata().find(kLeaseMetadataKey);
      id.empty() && it != context.client_metadata().end()) {
    id.assign(it->second.data(), it->second.size());
  }
  *own = id.empty();
  if (!*own) {
    BERTH_RETURN_IF_ERROR(leases_.Get(ns, id).status());
    return id;
  }
  // Stored, so that one left by a berth-runtimed killed midway expires.
  Labels labels{
      {kLeaseExpireLabel,
       absl::FormatTime(absl::RFC3339_full, absl::Now() + kPullLeaseExpiry, absl::UTCTimeZone())},
      {"berth.pull", request.reference()}};
  BERTH_ASSIGN_OR_RETURN(api::Lease lease, leases_.Create(ns, "", labels));
  return lease.id();
}

grpc::Status ImagesService::Pull(grpc::ServerContext* context, const api::PullImageRequest* request,
                                 grpc::ServerWriter<api::PullImageEvent>* writer) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  auto ref = ParseImageReference(request->reference());
  if (!ref.ok()) return ToGrpc(ref.status());
  PullOptions options;
  options.insecure_registries = insecure_;
  if (!request->platform().empty()) {
    auto platform = ParsePlatform(request->platform());
    if (!platform.ok()) return ToGrpc(platform.status());
    options.platform = *platform;
  }
  if (!request->auth().username().empty()) {
    options.credentials =
        RegistryCredentials{request->auth().username(), request->auth().password()};
  }
  // Until the image is stored, nothing names what the pull writes but a lease.
  bool own_lease = false;
  auto lease = PullLease(*context, *request, *ns, &own_lease);
  if (!lease.ok()) return ToGrpc(lease.status());
  absl::Cleanup drop_lease = [&] {
    if (!own_lease) return;
    absl::Status dropped = leases_.Delete(*ns, *lease);
    if (!dropped.ok()) LogWarn("pull {}: lease {}: {}", ref->String(), *lease, dropped.message());
  };
  auto lease_resource = [&](const char* type, const std::string& id) {
    api::Resource resource;
    resource.set_type(type);
    resource.set_id(id);
    return leases_.AddResource(*ns, *lease, resource);
  };
  options.protect = [&](const Descriptor& d) { return lease_resource(kContentResource, d.digest); };
  ImagePuller puller(content_);
  auto pulled = puller.Pull(*ref, options, [&](const PullProgress& p) {
    api::PullImageEvent event;
    auto* progress = event.mutable_progress();
    progress->set_digest(p.digest);
    progress->set_media_type(p.media_type);
    progress->set_status(p.status);
    progress->set_offset(p.offset);
    progress->set_total(p.total);
    writer->Write(event);
  });
  if (!pulled.ok()) {
    LogInfo("pull {}: {}", ref->String(), pulled.status().message());
    return ToGrpc(pulled.status());
  }
  for (const std::string& chain : ChainIds(pulled->config.diff_ids)) {
    if (absl::Status leased = lease_resource(kSnapshotResource, chain); !leased.ok()) {
      return ToGrpc(leased);
    }
  }
  auto top = UnpackImage(snapshots_, content_, *ns, pulled->parsed, pulled->config);
  if (!top.ok()) {
    LogInfo("unpack {}: {}", ref->String(), top.status().message());
    return ToGrpc(top.status());
  }
  api::PullImageEvent unpacked;
  unpacked.mutable_progress()->set_digest(*top);
  unpacked.mutable_progress()->set_status("unpacked");
  writer->Write(unpacked);
  api::Image image;
  image.set_name(ref->String());
  // Labels the name already has stay; the pull's are added over them.
  if (auto existing = images_.Get(*ns, image.name()); existing.ok()) {
    *image.mutable_labels() = existing->labels();
  } else if (existing.status().code() != absl::StatusCode::kNotFound) {
    return ToGrpc(existing.status());
  }
  for (const auto& [key, value] : request->labels()) (*image.mutable_labels())[key] = value;
  *image.mutable_target() = ToApi(pulled->target);
  *image.mutable_manifest() = ToApi(pulled->manifest);
  *image.mutable_config() = ToApi(pulled->parsed.config);
  int64_t size = pulled->parsed.config.size;
  for (const Descriptor& layer : pulled->parsed.layers) size += layer.size;
  image.set_size(size);
  image.set_platform(pulled->config.platform().String());
  auto stored = images_.Put(*ns, image);
  if (!stored.ok()) return ToGrpc(stored.status());
  api::ImageCreate created;
  created.set_name(stored->name());
  created.set_target_digest(stored->target().digest());
  events_.Publish(*ns, "/images/create", created);
  api::PullImageEvent last;
  *last.mutable_image() = *stored;
  writer->Write(last);
  LogInfo("pulled {} ({}) into namespace {}", image.name(), image.target().digest(), *ns);
  return grpc::Status::OK;
}

grpc::Status ImagesService::List(grpc::ServerContext* context,
                                 const api::ListImagesRequest* request,
                                 api::ListImagesResponse* response) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  auto filter =
      Filter::Parse(std::vector<std::string>(request->filters().begin(), request->filters().end()),
                    ImageFilterSchema());
  if (!filter.ok()) return ToGrpc(filter.status());
  auto images = images_.List(*ns);
  if (!images.ok()) return ToGrpc(images.status());
  for (api::Image& image : *images) {
    if (!filter->Matches([&](const Filter::FieldPath& path) { return ImageField(image, path); })) {
      continue;
    }
    *response->add_images() = std::move(image);
  }
  return grpc::Status::OK;
}

grpc::Status ImagesService::Get(grpc::ServerContext* context, const api::GetImageRequest* request,
                                api::Image* response) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  auto name = NormalizedName(request->name());
  if (!name.ok()) return ToGrpc(name.status());
  auto image = images_.Get(*ns, *name);
  if (!image.ok()) return ToGrpc(image.status());
  *response = std::move(*image);
  return grpc::Status::OK;
}

grpc::Status ImagesService::Delete(grpc::ServerContext* context,
                                   const api::DeleteImageRequest* request,
                                   api::DeleteImageResponse*) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  auto name = NormalizedName(request->name());
  if (!name.ok()) return ToGrpc(name.status());
  absl::Status deleted = images_.Delete(*ns, *name);
  if (!deleted.ok()) return ToGrpc(deleted);
  api::ImageDelete event;
  event.set_name(*name);
  events_.Publish(*ns, "/images/delete", event);
  // What only this image used goes now (as containerd collects after a delete).
  auto collected = gc_.Collect({*ns});
  if (!collected.ok()) LogWarn("gc after deleting {}: {}", *name, collected.status().message());
  return grpc::Status::OK;
}

grpc::Status ImagesService::Tag(grpc::ServerContext* context, const api::TagImageRequest* request,
                                api::Image* response) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  auto source = NormalizedName(request->source());
  if (!source.ok()) return ToGrpc(source.status());
  auto target = NormalizedName(request->target());
  if (!target.ok()) return ToGrpc(target.status());
  auto image = images_.Get(*ns, *source);
  if (!image.ok()) return ToGrpc(image.status());
  image->set_name(*target);
  auto stored = images_.Put(*ns, *image);
  if (!stored.ok()) return ToGrpc(stored.status());
  *response = std::move(*stored);
  return grpc::Status::OK;
}

}  // namespace berth::runtimed
