#include "highlevel-runtime/metadata/container_store.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status.h"

namespace berth::runtimed {
namespace {

namespace api = berth::runtime::v1;

void Now(google::protobuf::Timestamp* t) {
  int64_t ns = absl::ToUnixNanos(absl::Now());
  t->set_seconds(ns / 1000000000);
  t->set_nanos(static_cast<int32_t>(ns % 1000000000));
}

absl::Status NotFound(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("container \"", id, "\": not found"));
}

}  // namespace

absl::StatusOr<api::Container> ContainerStore::Create(const std::string& ns, api::Container c) {
  Now(c.mutable_created_at());
  *c.mutable_updated_at() = c.created_at();
  BERTH_ASSIGN_OR_RETURN(
      Statement put,
      db_.Prepare("INSERT INTO containers (namespace, id, data) VALUES (?1, ?2, ?3)"));
  put.Bind(1, ns).Bind(2, c.id()).BindBlob(3, c.SerializeAsString());
  absl::Status st = db_.Transaction([&] { return put.Run(); });
  if (st.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(absl::StrCat("container \"", c.id(), "\": already exists"));
  }
  BERTH_RETURN_IF_ERROR(st);
  return c;
}

absl::StatusOr<api::Container> ContainerStore::Get(const std::string& ns, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(
      Statement get, db_.Prepare("SELECT data FROM containers WHERE namespace = ?1 AND id = ?2"));
  get.Bind(1, ns).Bind(2, id);
  BERTH_ASSIGN_OR_RETURN(bool row, get.Step());
  if (!row) return NotFound(id);
  api::Container c;
  if (!c.ParseFromString(get.Blob(0))) {
    return absl::DataLossError(absl::StrCat("container \"", id, "\": corrupt record"));
  }
  return c;
}

absl::StatusOr<std::vector<api::Container>> ContainerStore::List(const std::string& ns) {
  BERTH_ASSIGN_OR_RETURN(
      Statement list, db_.Prepare("SELECT data FROM containers WHERE namespace = ?1 ORDER BY id"));
  list.Bind(1, ns);
  std::vector<api::Container> out;
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, list.Step());
    if (!row) return out;
    api::Container c;
    if (c.ParseFromString(list.Blob(0))) out.push_back(std::move(c));
  }
}

absl::StatusOr<api::Container> ContainerStore::Update(const std::string& ns, api::Container c) {
  BERTH_ASSIGN_OR_RETURN(api::Container old, Get(ns, c.id()));
  *c.mutable_created_at() = old.created_at();
  Now(c.mutable_updated_at());
  BERTH_ASSIGN_OR_RETURN(
      Statement put,
      db_.Prepare("UPDATE containers SET data = ?3 WHERE namespace = ?1 AND id = ?2"));
  put.Bind(1, ns).Bind(2, c.id()).BindBlob(3, c.SerializeAsString());
  BERTH_RETURN_IF_ERROR(db_.Transaction([&] { return put.Run(); }));
  return c;
}

absl::Status ContainerStore::Delete(const std::string& ns, const std::string& id) {
  BERTH_RETURN_IF_ERROR(Get(ns, id).status());
  BERTH_ASSIGN_OR_RETURN(Statement del,
                         db_.Prepare("DELETE FROM containers WHERE namespace = ?1 AND id = ?2"));
  del.Bind(1, ns).Bind(2, id);
  return db_.Transaction([&] { return del.Run(); });
}

}  // namespace berth::runtimed
