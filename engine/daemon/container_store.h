// berthd's containers on disk: one SQLite database (DATA_ROOT/berthd.db), a
// row per container holding its record as JSON, the name unique. Every write
// is a transaction, so a kill -9 leaves each container as it was last saved.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/sqlite_db.h"
#include "engine/daemon/container.h"

namespace berth::engine {

class ContainerStore {
 public:
  static absl::StatusOr<std::unique_ptr<ContainerStore>> Open(const std::string& path);

  // Inserts a new container: AlreadyExists when its id or name is taken.
  absl::Status Add(const Container& c);
  // Saves a known container (its name may have changed).
  absl::Status Save(const Container& c);
  absl::Status Remove(const std::string& id);
  absl::StatusOr<std::vector<Container>> List();

 private:
  explicit ContainerStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  std::unique_ptr<SqliteDb> db_;
};

}  // namespace berth::engine
