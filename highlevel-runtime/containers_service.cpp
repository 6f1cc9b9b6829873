#include "highlevel-runtime/containers_service.h"

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "berth/runtime/v1/events.pb.h"
#include "common/container_id.h"
#include "common/json.h"
#include "common/status.h"
#include "highlevel-runtime/filters.h"
#include "highlevel-runtime/image/image_config.h"
#include "highlevel-runtime/image/reference.h"
#include "highlevel-runtime/images_service.h"
#include "highlevel-runtime/snapshots/image_unpacker.h"

namespace berth::runtimed {
namespace {

const FilterSchema& ContainerFilterSchema() {
  static const FilterSchema* schema = new FilterSchema{
      "containers", {"id", "image", "snapshot_key", "runtime.name", "runtime.binary_name"}};
  return *schema;
}

// A container's field for a filter; as in containerd, an empty one is absent.
std::optional<std::string> ContainerField(const api::Container& c, const Filter::FieldPath& path) {
  std::optional<std::string> value;
  if (path[0] == "labels") {
    value = Filter::Label(c.labels(), path);
  } else if (path.size() == 1 && path[0] == "id") {
    value = c.id();
  } else if (path.size() == 1 && path[0] == "image") {
    value = c.image();
  } else if (path.size() == 1 && path[0] == "snapshot_key") {
    value = c.snapshot_key();
  } else if (path.size() == 2 && path[0] == "runtime" && path[1] == "name") {
    value = c.runtime().name();
  } else if (path.size() == 2 && path[0] == "runtime" && path[1] == "binary_name") {
    value = c.runtime().binary_name();
  }
  if (value && value->empty()) return std::nullopt;
  return value;
}

}  // namespace

absl::StatusOr<api::Container> ContainersService::CreateContainer(const std::string& ns,
                                                                  api::Container c) {
  BERTH_RETURN_IF_ERROR(ValidateContainerId(c.id()));
  auto spec = ParseJson(c.spec(), "spec");
  if (!spec.ok() || !spec->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("container \"", c.id(), "\": spec is not a JSON object"));
  }
  if (c.runtime().name().empty()) c.mutable_runtime()->set_name("io.containerd.berth.v2");
  BERTH_RETURN_IF_ERROR(ShimBinaryName(c.runtime().name()).status());
  std::string parent;
  if (!c.image().empty()) {
    BERTH_ASSIGN_OR_RETURN(ImageReference ref, ParseImageReference(c.image()));
    BERTH_ASSIGN_OR_RETURN(api::Image image, images_.Get(ns, ref.String()));
    c.set_image(image.name());
    BERTH_ASSIGN_OR_RETURN(Digest config_digest, ParseDigest(image.config().digest()));
    BERTH_ASSIGN_OR_RETURN(std::string config_text, content_.ReadBlob(config_digest));
    BERTH_ASSIGN_OR_RETURN(ImageConfig config, ParseImageConfig(config_text));
    std::vector<std::string> chains = ChainIds(config.diff_ids);
    if (!chains.empty()) parent = chains.back();
    c.set_snapshot_key(c.id());
  }
  if (!c.snapshot_key().empty()) {
    // The container's writable layer; gone again if the record cannot be made.
    BERTH_RETURN_IF_ERROR(snapshots_.Prepare(ns, c.snapshot_key(), parent).status());
  }
  auto created = containers_.Create(ns, c);
  if (!created.ok() && !c.snapshot_key().empty() &&
      created.status().code() != absl::StatusCode::kAlreadyExists) {
    (void)snapshots_.Remove(ns, c.snapshot_key());
  }
  return created;
}

grpc::Status ContainersService::Create(grpc::ServerContext* context,
                                       const api::CreateContainerRequest* request,
                                       api::Container* response) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  if (containers_.Get(*ns, request->container().id()).ok()) {
    return ToGrpc(absl::AlreadyExistsError(
        absl::StrCat("container \"", request->container().id(), "\": already exists")));
  }
  auto created = CreateContainer(*ns, request->container());
  if (!created.ok()) return ToGrpc(created.status());
  api::ContainerCreate event;
  event.set_id(created->id());
  event.set_image(created->image());
  event.set_runtime(created->runtime().name());
  events_.Publish(*ns, "/containers/create", event);
  *response = std::move(*created);
  return grpc::Status::OK;
}

grpc::Status ContainersService::Get(grpc::ServerContext* context,
                                    const api::GetContainerRequest* request,
                                    api::Container* response) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  auto c = containers_.Get(*ns, request->id());
  if (!c.ok()) return ToGrpc(c.status());
  *response = std::move(*c);
  return grpc::Status::OK;
}

grpc::Status ContainersService::List(grpc::ServerContext* context,
                                     const api::ListContainersRequest* request,
                                     api::ListContainersResponse* response) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  auto filter =
      Filter::Parse(std::vector<std::string>(request->filters().begin(), request->filters().end()),
                    ContainerFilterSchema());
  if (!filter.ok()) return ToGrpc(filter.status());
  auto list = containers_.List(*ns);
  if (!list.ok()) return ToGrpc(list.status());
  for (api::Container& c : *list) {
    if (!filter->Matches([&](const Filter::FieldPath& path) { return ContainerField(c, path); })) {
      continue;
    }
    *response->add_containers() = std::move(c);
  }
  return grpc::Status::OK;
}

grpc::Status ContainersService::Update(grpc::ServerContext* context,
                                       const api::UpdateContainerRequest* request,
                                       api::Container* response) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  auto old = containers_.Get(*ns, request->container().id());
  if (!old.ok()) return ToGrpc(old.status());
  api::Container c = *old;
  auto spec = ParseJson(request->container().spec(), "spec");
  if (!spec.ok() || !spec->is_object()) {
    return ToGrpc(absl::InvalidArgumentError("spec is not a JSON object"));
  }
  c.set_spec(request->container().spec());
  *c.mutable_labels() = request->container().labels();
  auto updated = containers_.Update(*ns, c);
  if (!updated.ok()) return ToGrpc(updated.status());
  *response = std::move(*updated);
  return grpc::Status::OK;
}

grpc::Status ContainersService::Delete(grpc::ServerContext* context,
                                       const api::DeleteContainerRequest* request,
                                       api::DeleteContainerResponse*) {
  auto ns = CallNamespace(*context);
  if (!ns.ok()) return ToGrpc(ns.status());
  auto c = containers_.Get(*ns, request->id());
  if (!c.ok()) return ToGrpc(c.status());
  if (tasks_.Has(*ns, request->id())) {
    return ToGrpc(absl::FailedPreconditionError(
        absl::StrCat("container \"", request->id(), "\" has a task: delete the task first")));
  }
  if (!c->snapshot_key().empty()) {
    absl::Status removed = snapshots_.Remove(*ns, c->snapshot_key());
    if (!removed.ok() && removed.code() != absl::StatusCode::kNotFound) return ToGrpc(removed);
  }
  absl::Status deleted = containers_.Delete(*ns, request->id());
  if (deleted.ok()) {
    api::ContainerDelete event;
    event.set_id(request->id());
    events_.Publish(*ns, "/containers/delete", event);
  }
  return ToGrpc(deleted);
}

}  // namespace berth::runtimed
