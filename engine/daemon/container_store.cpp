#include "engine/daemon/container_store.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace berth::engine {
namespace {

// Each entry migrates the schema from version i to i + 1.
const std::vector<const char*> kMigrations = {
    R"sql(
CREATE TABLE containers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  record TEXT NOT NULL
);
)sql",
};

}  // namespace

absl::StatusOr<std::unique_ptr<ContainerStore>> ContainerStore::Open(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, kMigrations, "berthd"));
  return std::unique_ptr<ContainerStore>(new ContainerStore(std::move(db)));
}

absl::Status ContainerStore::Add(const Container& c) {
  return db_->Transaction([&]() -> absl::Status {
    BERTH_ASSIGN_OR_RETURN(
        Statement put,
        db_->Prepare("INSERT INTO containers (id, name, record) VALUES (?1, ?2, ?3)"));
    return put.Bind(1, c.id).Bind(2, c.name).Bind(3, c.ToRecord().dump()).Run();
  });
}

absl::Status ContainerStore::Save(const Container& c) {
  return db_->Transaction([&]() -> absl::Status {
    BERTH_ASSIGN_OR_RETURN(
        Statement put, db_->Prepare("UPDATE containers SET name = ?2, record = ?3 WHERE id = ?1"));
    return put.Bind(1, c.id).Bind(2, c.name).Bind(3, c.ToRecord().dump()).Run();
  });
}

absl::Status ContainerStore::Remove(const std::string& id) {
  return db_->Transaction([&]() -> absl::Status {
    BERTH_ASSIGN_OR_RETURN(Statement del, db_->Prepare("DELETE FROM containers WHERE id = ?1"));
    return del.Bind(1, id).Run();
  });
}

absl::StatusOr<std::vector<Container>> ContainerStore::List() {
  BERTH_ASSIGN_OR_RETURN(Statement list, db_->Prepare("SELECT record FROM containers"));
  std::vector<Container> out;
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, list.Step());
    if (!row) break;
    nlohmann::json record = nlohmann::json::parse(list.Text(0), nullptr, false);
    if (record.is_discarded())
      return absl::DataLossError("berthd.db: a container record is not JSON");
    BERTH_ASSIGN_OR_RETURN(Container c, Container::FromRecord(record));
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace berth::engine
