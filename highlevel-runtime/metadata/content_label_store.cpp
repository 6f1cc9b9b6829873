#include "highlevel-runtime/metadata/content_label_store.h"

#include "absl/time/clock.h"
#include "common/status.h"

namespace berth::runtimed {

absl::StatusOr<ContentMetadata> ContentLabelStore::Get(const std::string& digest) {
  BERTH_ASSIGN_OR_RETURN(
      Statement get,
      db_.Prepare("SELECT labels, updated_at FROM content_labels WHERE digest = ?1"));
  get.Bind(1, digest);
  BERTH_ASSIGN_OR_RETURN(bool row, get.Step());
  ContentMetadata metadata;
  if (!row) return metadata;
  metadata.labels = LabelsFromJson(get.Text(0));
  metadata.updated_at = absl::FromUnixNanos(get.Int(1));
  return metadata;
}

absl::StatusOr<std::map<std::string, ContentMetadata>> ContentLabelStore::All() {
  BERTH_ASSIGN_OR_RETURN(Statement all, db_.Prepare("SELECT digest, labels, updated_at FROM "
                                                    "content_labels ORDER BY digest"));
  std::map<std::string, ContentMetadata> metadata;
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, all.Step());
    if (!row) return metadata;
    metadata.emplace(all.Text(0),
                     ContentMetadata{LabelsFromJson(all.Text(1)), absl::FromUnixNanos(all.Int(2))});
  }
}

absl::StatusOr<absl::Time> ContentLabelStore::Set(const std::string& digest, const Labels& labels) {
  absl::Time now = absl::Now();
  absl::Status done = db_.Transaction([&]() -> absl::Status {
    BERTH_ASSIGN_OR_RETURN(Statement put,
                           db_.Prepare("INSERT INTO content_labels (digest, labels, updated_at) "
                                       "VALUES (?1, ?2, ?3) ON CONFLICT (digest) DO UPDATE SET "
                                       "labels = ?2, updated_at = ?3"));
    put.Bind(1, digest).Bind(2, LabelsToJson(labels)).Bind(3, absl::ToUnixNanos(now));
    return put.Run();
  });
  if (!done.ok()) return done;
  return now;
}

absl::Status ContentLabelStore::Delete(const std::string& digest) {
  return db_.Transaction([&]() -> absl::Status {
    BERTH_ASSIGN_OR_RETURN(Statement del,
                           db_.Prepare("DELETE FROM content_labels WHERE digest = ?1"));
    del.Bind(1, digest);
    return del.Run();
  });
}

}  // namespace berth::runtimed
