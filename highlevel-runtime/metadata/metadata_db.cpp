#include "highlevel-runtime/metadata/metadata_db.h"

#include <iterator>

namespace berth::runtimed {
namespace {

// Each entry migrates the schema from version i to i + 1.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE images (
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  target_media_type TEXT NOT NULL,
  target_digest TEXT NOT NULL,
  target_size INTEGER NOT NULL,
  manifest_digest TEXT NOT NULL,
  manifest_media_type TEXT NOT NULL,
  manifest_size INTEGER NOT NULL,
  config_digest TEXT NOT NULL,
  config_media_type TEXT NOT NULL,
  config_size INTEGER NOT NULL,
  size INTEGER NOT NULL,
  platform TEXT NOT NULL,
  labels TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (namespace, name)
);
)sql",
    R"sql(
CREATE TABLE snapshots (
  namespace TEXT NOT NULL,
  key TEXT NOT NULL,
  id INTEGER NOT NULL UNIQUE,
  parent TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL CHECK (kind IN ('committed', 'active', 'view')),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (namespace, key)
);
CREATE TABLE snapshot_ids (next INTEGER NOT NULL);
INSERT INTO snapshot_ids VALUES (1);
)sql",
    R"sql(
CREATE TABLE containers (
  namespace TEXT NOT NULL,
  id TEXT NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (namespace, id)
);
)sql",
    R"sql(
CREATE TABLE leases (
  namespace TEXT NOT NULL,
  id TEXT NOT NULL,
  labels TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  PRIMARY KEY (namespace, id)
);
CREATE TABLE lease_resources (
  namespace TEXT NOT NULL,
  lease TEXT NOT NULL,
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  PRIMARY KEY (namespace, lease, type, id),
  FOREIGN KEY (namespace, lease) REFERENCES leases (namespace, id) ON DELETE CASCADE
);
CREATE TABLE content_labels (
  digest TEXT PRIMARY KEY,
  labels TEXT NOT NULL DEFAULT '{}',
  updated_at INTEGER NOT NULL
);
)sql",
};

}  // namespace

absl::StatusOr<std::unique_ptr<MetadataDb>> OpenMetadataDb(const std::string& path) {
  return SqliteDb::Open(path, {std::begin(kMigrations), std::end(kMigrations)}, "berth-runtimed");
}

}  // namespace berth::runtimed
