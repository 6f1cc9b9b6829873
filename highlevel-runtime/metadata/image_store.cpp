#include "highlevel-runtime/metadata/image_store.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/json.h"
#include "common/status.h"

namespace berth::runtimed {
namespace {

constexpr char kColumns[] =
    "name, target_media_type, target_digest, target_size, manifest_media_type, manifest_digest, "
    "manifest_size, config_media_type, config_digest, config_size, size, platform, labels, "
    "created_at, updated_at";

void SetTime(int64_t unix_nanos, google::protobuf::Timestamp* t) {
  t->set_seconds(unix_nanos / 1000000000);
  t->set_nanos(static_cast<int32_t>(unix_nanos % 1000000000));
}

api::Image FromRow(const Statement& row) {
  api::Image image;
  image.set_name(row.Text(0));
  auto descriptor = [&](int col, api::Descriptor* d) {
    d->set_media_type(row.Text(col));
    d->set_digest(row.Text(col + 1));
    d->set_size(row.Int(col + 2));
  };
  descriptor(1, image.mutable_target());
  descriptor(4, image.mutable_manifest());
  descriptor(7, image.mutable_config());
  image.set_size(row.Int(10));
  image.set_platform(row.Text(11));
  auto labels = ParseJson(row.Text(12), "image labels");
  if (labels.ok() && labels->is_object()) {
    for (auto& [k, v] : labels->items()) {
      if (v.is_string()) (*image.mutable_labels())[k] = v.get<std::string>();
    }
  }
  SetTime(row.Int(13), image.mutable_created_at());
  SetTime(row.Int(14), image.mutable_updated_at());
  return image;
}

}  // namespace

absl::StatusOr<api::Image> ImageStore::Put(const std::string& ns, api::Image image) {
  int64_t now = absl::ToUnixNanos(absl::Now());
  Json labels = Json::object();
  for (const auto& [k, v] : image.labels()) labels[k] = v;
  BERTH_RETURN_IF_ERROR(db_.Transaction([&]() -> absl::Status {
    BERTH_ASSIGN_OR_RETURN(
        Statement put,
        db_.Prepare(absl::StrCat(
            "INSERT INTO images (namespace, ", kColumns,
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15) "
            "ON CONFLICT (namespace, name) DO UPDATE SET target_media_type = ?3, "
            "target_digest = ?4, target_size = ?5, manifest_media_type = ?6, "
            "manifest_digest = ?7, manifest_size = ?8, config_media_type = ?9, "
            "config_digest = ?10, config_size = ?11, size = ?12, platform = ?13, labels = ?14, "
            "updated_at = ?15")));
    put.Bind(1, ns).Bind(2, image.name());
    put.Bind(3, image.target().media_type()).Bind(4, image.target().digest());
    put.Bind(5, image.target().size());
    put.Bind(6, image.manifest().media_type()).Bind(7, image.manifest().digest());
    put.Bind(8, image.manifest().size());
    put.Bind(9, image.config().media_type()).Bind(10, image.config().digest());
    put.Bind(11, image.config().size());
    put.Bind(12, image.size()).Bind(13, image.platform()).Bind(14, labels.dump());
    put.Bind(15, now);
    return put.Run();
  }));
  return Get(ns, image.name());
}

absl::StatusOr<api::Image> ImageStore::Get(const std::string& ns, const std::string& name) {
  BERTH_ASSIGN_OR_RETURN(
      Statement get, db_.Prepare(absl::StrCat("SELECT ", kColumns,
                                              " FROM images WHERE namespace = ?1 AND name = ?2")));
  get.Bind(1, ns).Bind(2, name);
  BERTH_ASSIGN_OR_RETURN(bool row, get.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("image \"", name, "\": not found"));
  return FromRow(get);
}

absl::StatusOr<std::vector<api::Image>> ImageStore::List(const std::string& ns) {
  BERTH_ASSIGN_OR_RETURN(
      Statement list, db_.Prepare(absl::StrCat("SELECT ", kColumns,
                                               " FROM images WHERE namespace = ?1 ORDER BY name")));
  list.Bind(1, ns);
  std::vector<api::Image> images;
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, list.Step());
    if (!row) return images;
    images.push_back(FromRow(list));
  }
}

absl::StatusOr<std::vector<std::pair<std::string, api::Image>>> ImageStore::ListAll() {
  BERTH_ASSIGN_OR_RETURN(Statement ns_list,
                         db_.Prepare("SELECT DISTINCT namespace FROM images ORDER BY namespace"));
  std::vector<std::pair<std::string, api::Image>> all;
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, ns_list.Step());
    if (!row) return all;
    std::string ns = ns_list.Text(0);
    BERTH_ASSIGN_OR_RETURN(std::vector<api::Image> images, List(ns));
    for (api::Image& image : images) all.emplace_back(ns, std::move(image));
  }
}

absl::Status ImageStore::Delete(const std::string& ns, const std::string& name) {
  return db_.Transaction([&]() -> absl::Status {
    BERTH_ASSIGN_OR_RETURN(Statement del,
                           db_.Prepare("DELETE FROM images WHERE namespace = ?1 AND name = ?2"));
    del.Bind(1, ns).Bind(2, name);
    BERTH_RETURN_IF_ERROR(del.Run());
    BERTH_ASSIGN_OR_RETURN(Statement changes, db_.Prepare("SELECT changes()"));
    BERTH_ASSIGN_OR_RETURN(bool row, changes.Step());
    if (!row || changes.Int(0) == 0) {
      return absl::NotFoundError(absl::StrCat("image \"", name, "\": not found"));
    }
    return absl::OkStatus();
  });
}

}  // namespace berth::runtimed
