// berth-runtimed's lease store and content labels on a real SQLite file in a
// temp dir: expiry parsing, what a collection is told to keep, the removal of
// expired leases, label limits.
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "absl/time/clock.h"
#include "highlevel-runtime/metadata/content_label_store.h"
#include "highlevel-runtime/metadata/lease_store.h"

namespace {

using namespace berth::runtimed;

struct Db {
  Db() {
    char tmpl[] = "/tmp/berth-leases-test-XXXXXX";
    dir = ::mkdtemp(tmpl);
    auto opened = OpenMetadataDb(dir + "/metadata.db");
    REQUIRE(opened.ok());
    db = std::move(*opened);
  }
  ~Db() { std::filesystem::remove_all(dir); }
  std::string dir;
  std::unique_ptr<MetadataDb> db;
};

api::Resource Resource(const std::string& type, const std::string& id) {
  api::Resource r;
  r.set_type(type);
  r.set_id(id);
  return r;
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

const std::string kDigestA = "sha256:" + std::string(64, 'a');
const std::string kDigestB = "sha256:" + std::string(64, 'b');

}  // namespace

TEST_CASE("leases: gc.expire is an RFC 3339 time, and without it a lease never expires") {
  auto none = LeaseExpiry({});
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  auto at = LeaseExpiry({{kLeaseExpireLabel, "2030-01-02T03:04:05Z"}});
  REQUIRE(at.ok());
  CHECK(**at == absl::FromUnixSeconds(1893553445));
  auto offset = LeaseExpiry({{kLeaseExpireLabel, "2030-01-02T04:04:05.5+01:00"}});
  REQUIRE(offset.ok());
  CHECK(**offset == absl::FromUnixSeconds(1893553445) + absl::Milliseconds(500));
  auto bad = LeaseExpiry({{kLeaseExpireLabel, "in a day"}});
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("leases: a collection keeps what unexpired leases hold and removes expired ones") {
  Db d;
  LeaseStore leases(*d.db);
  absl::Time now = absl::Now();
  REQUIRE(leases.Create("ns1", "live", {{kLeaseExpireLabel, Rfc3339(now + absl::Hours(1))}}).ok());
  REQUIRE(leases.Create("ns1", "dead", {{kLeaseExpireLabel, Rfc3339(now - absl::Hours(1))}}).ok());
  REQUIRE(leases.Create("ns2", "forever", {}).ok());
  REQUIRE(leases.AddResource("ns1", "live", Resource(kContentResource, kDigestA)).ok());
  REQUIRE(leases.AddResource("ns1", "dead", Resource(kContentResource, kDigestB)).ok());
  REQUIRE(leases.AddResource("ns2", "forever", Resource(kSnapshotResource, "k1")).ok());
  REQUIRE(leases.AddResource("ns2", "forever", Resource(kIngestResource, "i1")).ok());

  absl::StatusOr<LeasedResources> kept;
  {
    auto barrier = leases.GcBarrier();
    kept = leases.ExpireAndListLeased(now);
  }
  REQUIRE(kept.ok());
  CHECK(kept->content == std::set<std::string>{kDigestA});
  REQUIRE(kept->snapshots.count("ns2") == 1);
  CHECK(kept->snapshots["ns2"] == std::set<std::string>{"k1"});
  CHECK(kept->snapshots.count("ns1") == 0);
  // The expired lease is gone, its resources with it.
  CHECK(leases.Get("ns1", "dead").status().code() == absl::StatusCode::kNotFound);
  CHECK(leases.ListResources("ns1", "dead").status().code() == absl::StatusCode::kNotFound);
  auto listed = leases.List("ns1");
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].id() == "live");
  // Deleting a lease takes its resources.
  REQUIRE(leases.Delete("ns1", "live").ok());
  REQUIRE(leases.Create("ns1", "live", {}).ok());
  auto resources = leases.ListResources("ns1", "live");
  REQUIRE(resources.ok());
  CHECK(resources->empty());
}

TEST_CASE("leases: ids, labels and resources are checked") {
  Db d;
  LeaseStore leases(*d.db);
  for (const char* bad : {"-a", "a-", "a..b", "a b", "ä"}) {
    INFO(bad);
    CHECK(leases.Create("ns", bad, {}).status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(leases.Create("ns", std::string(77, 'a'), {}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(leases.Create("ns", std::string(76, 'a'), {}).ok());
  CHECK(leases.Create("ns", "a.b_c-d", {}).ok());
  auto generated = leases.Create("ns", "", {});
  REQUIRE(generated.ok());
  CHECK_FALSE(generated->id().empty());
  CHECK(leases.Create("ns", "a.b_c-d", {}).status().code() == absl::StatusCode::kAlreadyExists);
  CHECK(leases.Create("ns", "l", {{"k", std::string(kMaxLabelSize, 'v')}}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(leases.Create("ns", "l", {{"", "v"}}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(leases.AddResource("ns", "a.b_c-d", Resource("blobs", kDigestA)).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(leases.AddResource("ns", "a.b_c-d", Resource(kContentResource, "sha256:x")).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(leases.AddResource("ns", "a.b_c-d", Resource(kIngestResource, "../x")).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(leases.AddResource("other", "a.b_c-d", Resource(kContentResource, kDigestA)).code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("content labels: set, read back, listed, forgotten") {
  Db d;
  ContentLabelStore labels(*d.db);
  auto none = labels.Get(kDigestA);
  REQUIRE(none.ok());
  CHECK(none->labels.empty());
  CHECK_FALSE(none->updated_at.has_value());
  auto when = labels.Set(kDigestA, {{"a", "1"}, {"b.c/d", "2"}});
  REQUIRE(when.ok());
  auto got = labels.Get(kDigestA);
  REQUIRE(got.ok());
  CHECK(got->labels == Labels{{"a", "1"}, {"b.c/d", "2"}});
  CHECK(got->updated_at == *when);
  auto all = labels.All();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 1);
  CHECK(all->begin()->first == kDigestA);
  REQUIRE(labels.Delete(kDigestA).ok());
  REQUIRE(labels.Delete(kDigestA).ok());
  all = labels.All();
  REQUIRE(all.ok());
  CHECK(all->empty());
}
