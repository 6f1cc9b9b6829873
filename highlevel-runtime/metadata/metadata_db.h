// berth-runtimed's metadata database: images, snapshots, containers, leases
// and content labels in one SQLite file (common/sqlite_db.h), its schema
// migrated on open.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/sqlite_db.h"

namespace berth::runtimed {

using MetadataDb = SqliteDb;
using berth::Statement;

absl::StatusOr<std::unique_ptr<MetadataDb>> OpenMetadataDb(const std::string& path);

}  // namespace berth::runtimed
