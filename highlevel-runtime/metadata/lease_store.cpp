#include "highlevel-runtime/metadata/lease_store.h"

#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/digest.h"
#include "common/status.h"
#include "highlevel-runtime/metadata/identifier.h"

namespace berth::runtimed {
namespace {

void SetTime(int64_t unix_nanos, google::protobuf::Timestamp* t) {
  t->set_seconds(unix_nanos / 1000000000);
  t->set_nanos(static_cast<int32_t>(unix_nanos % 1000000000));
}

std::string RandomLeaseId() {
  std::random_device random;
  return absl::StrFormat("%d-%08x%08x", absl::ToUnixSeconds(absl::Now()), random(), random());
}

absl::Status ValidateResource(const api::Resource& r) {
  if (r.type() == kContentResource) {
    auto digest = ParseDigest(r.id());
    if (!digest.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("content resource: ", std::string(digest.status().message())));
    }
    return absl::OkStatus();
  }
  if (r.type() == kSnapshotResource) {
    if (r.id().empty()) return absl::InvalidArgumentError("snapshot resource: empty key");
    return absl::OkStatus();
  }
  if (r.type() == kIngestResource) {
    bool ok = !r.id().empty();
    for (char c : r.id()) {
      ok = ok &&
           (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
    }
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat("invalid ingest ref \"", r.id(), "\""));
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unsupported resource type \"", r.type(), "\" (want \"", kContentResource,
                   "\", \"", kSnapshotResource, "\" or \"", kIngestResource, "\")"));
}

absl::Status LeaseNotFound(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("lease \"", id, "\": not found"));
}

api::Lease FromRow(const Statement& row) {
  api::Lease lease;
  lease.set_id(row.Text(0));
  for (const auto& [k, v] : LabelsFromJson(row.Text(1))) (*lease.mutable_labels())[k] = v;
  SetTime(row.Int(2), lease.mutable_created_at());
  return lease;
}

}  // namespace

absl::StatusOr<std::optional<absl::Time>> LeaseExpiry(const Labels& labels) {
  auto it = labels.find(kLeaseExpireLabel);
  if (it == labels.end()) return std::optional<absl::Time>();
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, it->second, &t, &error)) {
    return absl::InvalidArgumentError(absl::StrCat("label ", kLeaseExpireLabel, "=\"", it->second,
                                                   "\" is not an RFC 3339 time: ", error));
  }
  return std::optional<absl::Time>(t);
}

absl::StatusOr<bool> LeaseStore::Exists(const std::string& ns, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(Statement get,
                         db_.Prepare("SELECT 1 FROM leases WHERE namespace = ?1 AND id = ?2"));
  get.Bind(1, ns).Bind(2, id);
  return get.Step();
}

absl::StatusOr<api::Lease> LeaseStore::Create(const std::string& ns, std::string id,
                                              const Labels& labels) {
  if (id.empty()) id = RandomLeaseId();
  BERTH_RETURN_IF_ERROR(ValidateIdentifier(id, "lease id"));
  BERTH_RETURN_IF_ERROR(ValidateLabels(labels, absl::StrCat("lease \"", id, "\"")));
  BERTH_RETURN_IF_ERROR(LeaseExpiry(labels).status());
  absl::Status done = db_.Transaction([&]() -> absl::Status {
    BERTH_ASSIGN_OR_RETURN(bool exists, Exists(ns, id));
    if (exists) return absl::AlreadyExistsError(absl::StrCat("lease \"", id, "\": already exists"));
    BERTH_ASSIGN_OR_RETURN(
        Statement put,
        db_.Prepare(
            "INSERT INTO leases (namespace, id, labels, created_at) VALUES (?1, ?2, ?3, ?4)"));
    put.Bind(1, ns).Bind(2, id).Bind(3, LabelsToJson(labels));
    put.Bind(4, absl::ToUnixNanos(absl::Now()));
    return put.Run();
  });
  if (!done.ok()) return done;
  return Get(ns, id);
}

absl::StatusOr<api::Lease> LeaseStore::Get(const std::string& ns, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(
      Statement get,
      db_.Prepare("SELECT id, labels, created_at FROM leases WHERE namespace = ?1 AND id = ?2"));
  get.Bind(1, ns).Bind(2, id);
  BERTH_ASSIGN_OR_RETURN(bool row, get.Step());
  if (!row) return LeaseNotFound(id);
  return FromRow(get);
}

absl::StatusOr<std::vector<api::Lease>> LeaseStore::List(const std::string& ns) {
  BERTH_ASSIGN_OR_RETURN(
      Statement list,
      db_.Prepare("SELECT id, labels, created_at FROM leases WHERE namespace = ?1 ORDER BY id"));
  list.Bind(1, ns);
  std::vector<api::Lease> leases;
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, list.Step());
    if (!row) return leases;
    leases.push_back(FromRow(list));
  }
}

absl::Status LeaseStore::Delete(const std::string& ns, const std::string& id) {
  return db_.Transaction([&]() -> absl::Status {
    BERTH_ASSIGN_OR_RETURN(bool exists, Exists(ns, id));
    if (!exists) return LeaseNotFound(id);
    BERTH_ASSIGN_OR_RETURN(
        Statement resources,
        db_.Prepare("DELETE FROM lease_resources WHERE namespace = ?1 AND lease = ?2"));
    resources.Bind(1, ns).Bind(2, id);
    BERTH_RETURN_IF_ERROR(resources.Run());
    BERTH_ASSIGN_OR_RETURN(Statement del,
                           db_.Prepare("DELETE FROM leases WHERE namespace = ?1 AND id = ?2"));
    del.Bind(1, ns).Bind(2, id);
    return del.Run();
  });
}

absl::Status LeaseStore::AddResource(const std::string& ns, const std::string& id,
                                     const api::Resource& resource) {
  BERTH_RETURN_IF_ERROR(ValidateResource(resource));
  std::shared_lock lock(gc_mu_);  // not while a collection runs
  return db_.Transaction([&]() -> absl::Status {
    BERTH_ASSIGN_OR_RETURN(bool exists, Exists(ns, id));
    if (!exists) return LeaseNotFound(id);
    BERTH_ASSIGN_OR_RETURN(Statement put,
                           db_.Prepare("INSERT OR IGNORE INTO lease_resources "
                                       "(namespace, lease, type, id) VALUES (?1, ?2, ?3, ?4)"));
    put.Bind(1, ns).Bind(2, id).Bind(3, resource.type()).Bind(4, resource.id());
    return put.Run();
  });
}

absl::Status LeaseStore::DeleteResource(const std::string& ns, const std::string& id,
                                        const api::Resource& resource) {
  return db_.Transaction([&]() -> absl::Status {
    BERTH_ASSIGN_OR_RETURN(bool exists, Exists(ns, id));
    if (!exists) return LeaseNotFound(id);
    BERTH_ASSIGN_OR_RETURN(Statement del,
                           db_.Prepare("DELETE FROM lease_resources WHERE namespace = ?1 AND "
                                       "lease = ?2 AND type = ?3 AND id = ?4"));
    del.Bind(1, ns).Bind(2, id).Bind(3, resource.type()).Bind(4, resource.id());
    return del.Run();
  });
}

absl::StatusOr<std::vector<api::Resource>> LeaseStore::ListResources(const std::string& ns,
                                                                     const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(bool exists, Exists(ns, id));
  if (!exists) return LeaseNotFound(id);
  BERTH_ASSIGN_OR_RETURN(Statement list,
                         db_.Prepare("SELECT type, id FROM lease_resources WHERE namespace = ?1 "
                                     "AND lease = ?2 ORDER BY type, id"));
  list.Bind(1, ns).Bind(2, id);
  std::vector<api::Resource> resources;
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, list.Step());
    if (!row) return resources;
    api::Resource& r = resources.emplace_back();
    r.set_type(list.Text(0));
    r.set_id(list.Text(1));
  }
}

absl::StatusOr<LeasedResources> LeaseStore::ExpireAndListLeased(absl::Time now) {
  LeasedResources leased;
  absl::Status done = db_.Transaction([&]() -> absl::Status {
    BERTH_ASSIGN_OR_RETURN(Statement all, db_.Prepare("SELECT namespace, id, labels FROM leases"));
    std::vector<std::pair<std::string, std::string>> expired;
    for (;;) {
      BERTH_ASSIGN_OR_RETURN(bool row, all.Step());
      if (!row) break;
      // A label that does not parse (Create refuses them) does not expire.
      auto expiry = LeaseExpiry(LabelsFromJson(all.Text(2)));
      if (expiry.ok() && expiry->has_value() && **expiry <= now) {
        expired.emplace_back(all.Text(0), all.Text(1));
      }
    }
    for (const auto& [ns, id] : expired) {
      for (const char* sql : {"DELETE FROM lease_resources WHERE namespace = ?1 AND lease = ?2",
                              "DELETE FROM leases WHERE namespace = ?1 AND id = ?2"}) {
        BERTH_ASSIGN_OR_RETURN(Statement del, db_.Prepare(sql));
        del.Bind(1, ns).Bind(2, id);
        BERTH_RETURN_IF_ERROR(del.Run());
      }
    }
    BERTH_ASSIGN_OR_RETURN(Statement resources,
                           db_.Prepare("SELECT namespace, type, id FROM lease_resources"));
    for (;;) {
      BERTH_ASSIGN_OR_RETURN(bool row, resources.Step());
      if (!row) return absl::OkStatus();
      std::string type = resources.Text(1);
      if (type == kContentResource) leased.content.insert(resources.Text(2));
      if (type == kSnapshotResource) leased.snapshots[resources.Text(0)].insert(resources.Text(2));
    }
  });
  if (!done.ok()) return done;
  return leased;
}

}  // namespace berth::runtimed
