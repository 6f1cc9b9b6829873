// berth-runtimed's pull against a real registry: Debian's docker-registry on
// 127.0.0.1 (tests/fixtures/registry.sh) serving the offline busybox image as
// an OCI manifest and, through skopeo --format v2s2, as Docker schema 2. The
// registry and the content stores live in one temp dir, removed at the end.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/fd_util.h"
#include "common/json.h"
#include "common/process.h"
#include "highlevel-runtime/pull/image_puller.h"

namespace {

using namespace berth::runtimed;

std::string Run(const std::vector<std::string>& argv) {
  auto r = berth::RunAndCapture(argv);
  REQUIRE(r.ok());
  INFO(absl::StrCat(argv[0], ": ", r->err));
  REQUIRE(r->exit_code == 0);
  return r->out;
}

// One registry for the whole test program, with the busybox image pushed.
struct Registry {
  Registry() {
    char tmpl[] = "/tmp/berth-pull-test-XXXXXX";
    dir = ::mkdtemp(tmpl);
    Run({BERTH_FIXTURES "/busybox-image.sh", dir + "/image"});
    address = std::string(absl::StripAsciiWhitespace(
        Run({BERTH_FIXTURES "/registry.sh", "start", dir + "/registry"})));
    Run({BERTH_FIXTURES "/registry.sh", "push", dir + "/registry", dir + "/image/oci",
         "busybox:latest"});
    Run({"skopeo", "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false", "--format",
         "v2s2", "oci:" + dir + "/image/oci:latest",
         "docker://" + address + "/busybox-docker:latest"});
    Run({BERTH_FIXTURES "/multiarch-image.sh", dir + "/multiarch"});
    Run({BERTH_FIXTURES "/registry.sh", "push", dir + "/registry", dir + "/multiarch",
         "multiarch:latest", "--all"});
    Run({BERTH_FIXTURES "/zstd-image.sh", dir + "/zstd"});
    Run({BERTH_FIXTURES "/registry.sh", "push", dir + "/registry", dir + "/zstd", "zstd:latest"});
  }
  ~Registry() {
    berth::RunAndCapture({BERTH_FIXTURES "/registry.sh", "stop", dir + "/registry"}).IgnoreError();
    std::filesystem::remove_all(dir);
  }
  std::string dir, address;
};

Registry& TheRegistry() {
  static Registry registry;
  return registry;
}

struct Store {
  Store() {
    char tmpl[] = "/tmp/berth-content-XXXXXX";
    root = ::mkdtemp(tmpl);
    auto s = ContentStore::Open(root);
    REQUIRE(s.ok());
    store.emplace(std::move(*s));
  }
  ~Store() { std::filesystem::remove_all(root); }
  std::string root;
  std::optional<ContentStore> store;
};

absl::StatusOr<PulledImage> Pull(ContentStore& store, const std::string& ref,
                                 std::vector<PullProgress>* events = nullptr) {
  auto parsed = ParseImageReference(ref);
  if (!parsed.ok()) return parsed.status();
  ImagePuller puller(store);
  return puller.Pull(*parsed, PullOptions{}, [&](const PullProgress& p) {
    if (events != nullptr) events->push_back(p);
  });
}

}  // namespace

TEST_CASE("pull: busybox as an OCI manifest and as Docker schema 2, every blob verified") {
  Registry& registry = TheRegistry();
  for (const char* repo : {"busybox", "busybox-docker"}) {
    Store s;
    std::vector<PullProgress> events;
    auto image = Pull(*s.store, registry.address + "/" + repo + ":latest", &events);
    REQUIRE(image.ok());
    INFO(repo);
    CHECK(image->parsed.layers.size() >= 1);
    CHECK(IsManifestMediaType(image->manifest.media_type));
    // The manifest, the config and each layer are in the store, verified.
    for (const Descriptor* d : {&image->target, &image->parsed.config}) {
      auto digest = berth::ParseDigest(d->digest);
      REQUIRE(digest.ok());
      auto info = s.store->Info(*digest);
      REQUIRE(info.ok());
      CHECK(info->size == d->size);
      auto blob = s.store->ReadBlob(*digest);
      REQUIRE(blob.ok());
      CHECK(berth::Sha256Of(*blob) == *digest);
    }
    for (const Descriptor& layer : image->parsed.layers) {
      auto digest = berth::ParseDigest(layer.digest);
      REQUIRE(digest.ok());
      CHECK(s.store->Has(*digest));
    }
    CHECK(image->config.diff_ids.size() == image->parsed.layers.size());
    CHECK(image->config.platform() == HostPlatform());
    bool saw_done = false;
    for (const PullProgress& p : events) saw_done |= p.status == "done";
    CHECK(saw_done);

    // Pulled again: nothing is downloaded.
    events.clear();
    REQUIRE(Pull(*s.store, registry.address + "/" + repo + ":latest", &events).ok());
    for (const PullProgress& p : events) CHECK(p.status != "downloading");
  }
}

TEST_CASE("pull: unknown tag, unknown repository, bad reference, registry down") {
  Registry& registry = TheRegistry();
  Store s;
  auto missing_tag = Pull(*s.store, registry.address + "/busybox:nope");
  CHECK(missing_tag.status().code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(missing_tag.status().message(), "busybox:nope"));
  CHECK(Pull(*s.store, registry.address + "/nothing-here:latest").status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(Pull(*s.store, registry.address + "/BusyBox:latest").status().code() ==
        absl::StatusCode::kInvalidArgument);
  // A port nothing listens on (the registry's, +1 is as good as any: check it).
  auto down = Pull(*s.store, "127.0.0.1:1/busybox:latest");
  CHECK(down.status().code() == absl::StatusCode::kUnavailable);
  // Nothing half-written is left: no blob and no ingest.
  auto listed = s.store->List();
  REQUIRE(listed.ok());
  CHECK(listed->empty());
}

TEST_CASE("pull: an image of another platform only is refused, naming both platforms") {
  Registry& registry = TheRegistry();
  Store s;
  auto ref = ParseImageReference(registry.address + "/busybox:latest");
  REQUIRE(ref.ok());
  ImagePuller puller(*s.store);
  PullOptions options;
  options.platform = *ParsePlatform("linux/s390x");
  auto image = puller.Pull(*ref, options, [](const PullProgress&) {});
  CHECK(image.status().code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(image.status().message(), "linux/s390x"));
  CHECK(absl::StrContains(image.status().message(), HostPlatform().String()));
}

TEST_CASE("pull: a multi-arch index gives the host's manifest, or the one asked for") {
  Registry& registry = TheRegistry();
  Store s;
  auto ref = ParseImageReference(registry.address + "/multiarch:latest");
  REQUIRE(ref.ok());
  ImagePuller puller(*s.store);
  auto host = puller.Pull(*ref, PullOptions{}, [](const PullProgress&) {});
  INFO(host.status().ToString());
  REQUIRE(host.ok());
  CHECK(host->target.media_type == "application/vnd.oci.image.index.v1+json");
  CHECK(host->config.platform() == HostPlatform());
  PullOptions arm;
  arm.platform = *ParsePlatform("linux/arm64");
  auto arm64 = puller.Pull(*ref, arm, [](const PullProgress&) {});
  REQUIRE(arm64.ok());
  CHECK(arm64->config.architecture == "arm64");
  CHECK(arm64->config.variant == "v8");
  CHECK(arm64->manifest.digest != host->manifest.digest);
  CHECK(arm64->target.digest == host->target.digest);
  // The index has no s390x: the error lists what it has.
  PullOptions s390x;
  s390x.platform = *ParsePlatform("linux/s390x");
  auto none = puller.Pull(*ref, s390x, [](const PullProgress&) {});
  CHECK(none.status().code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(none.status().message(), "linux/arm64/v8"));
}

TEST_CASE("pull: a zstd-compressed layer") {
  Registry& registry = TheRegistry();
  Store s;
  auto image = Pull(*s.store, registry.address + "/zstd:latest");
  INFO(image.status().ToString());
  REQUIRE(image.ok());
  REQUIRE(image->parsed.layers.size() == 1);
  CHECK(image->parsed.layers[0].media_type == "application/vnd.oci.image.layer.v1.tar+zstd");
  CHECK(s.store->Has(*berth::ParseDigest(image->parsed.layers[0].digest)));
}

namespace {

// A registry of its own serving the two-layer fixture, whose stored blobs a
// test may damage.
struct OwnRegistry {
  OwnRegistry() {
    char tmpl[] = "/tmp/berth-pull-own-XXXXXX";
    dir = ::mkdtemp(tmpl);
    Run({BERTH_FIXTURES "/layered-image.sh", dir + "/oci"});
    address = std::string(absl::StripAsciiWhitespace(
        Run({BERTH_FIXTURES "/registry.sh", "start", dir + "/registry"})));
    Run({BERTH_FIXTURES "/registry.sh", "push", dir + "/registry", dir + "/oci", "layered:latest"});
    auto index = berth::ReadJsonFile(dir + "/oci/index.json");
    REQUIRE(index.ok());
    auto manifest_digest =
        berth::ParseDigest((*index)["manifests"][0]["digest"].get<std::string>());
    REQUIRE(manifest_digest.ok());
    auto manifest = berth::ReadJsonFile(dir + "/oci/blobs/sha256/" + manifest_digest->hex);
    REQUIRE(manifest.ok());
    top_layer = (*manifest)["layers"][1]["digest"].get<std::string>();
    top_layer_size = (*manifest)["layers"][1]["size"].get<int64_t>();
  }
  ~OwnRegistry() {
    berth::RunAndCapture({BERTH_FIXTURES "/registry.sh", "stop", dir + "/registry"}).IgnoreError();
    std::filesystem::remove_all(dir);
  }
  // The file docker-registry serves a blob from.
  std::string StoredBlob(const std::string& digest) const {
    std::string hex = digest.substr(7);
    return dir + "/registry/storage/docker/registry/v2/blobs/sha256/" + hex.substr(0, 2) + "/" +
           hex + "/data";
  }
  std::string dir, address, top_layer;
  int64_t top_layer_size = 0;
};

}  // namespace

TEST_CASE("pull: a download cut off earlier resumes from its ingest (Range)") {
  OwnRegistry registry;
  Store s;
  // Half of the layer is already in the ingest, as a pull killed midway left it.
  auto blob =
      berth::ReadFileToString(registry.dir + "/oci/blobs/sha256/" + registry.top_layer.substr(7));
  REQUIRE(blob.ok());
  auto writer = s.store->Writer(registry.top_layer.substr(7));
  REQUIRE(writer.ok());
  REQUIRE((*writer)->Write(blob->substr(0, blob->size() / 2)).ok());
  writer->reset();  // the ingest stays
  std::vector<PullProgress> events;
  auto image = Pull(*s.store, registry.address + "/layered:latest", &events);
  INFO(image.status().ToString());
  REQUIRE(image.ok());
  bool resumed = false;
  for (const PullProgress& p : events) {
    if (p.digest == registry.top_layer && p.status == "downloading") {
      resumed = p.offset == static_cast<int64_t>(blob->size() / 2);
      break;
    }
  }
  CHECK(resumed);
  CHECK(s.store->Has(*berth::ParseDigest(registry.top_layer)));
}

TEST_CASE("pull: connections cut in the middle of the layers are resumed with Range") {
  OwnRegistry registry;
  Store s;
  // A proxy that sends half of each blob's first answer, then hangs up.
  std::string port_file = registry.dir + "/proxy.port", log = registry.dir + "/proxy.log";
  berth::SpawnOptions spawn;
  spawn.argv = {"/usr/bin/python3", BERTH_FIXTURES "/../integration/cutting_proxy.py",
                registry.address, port_file, log};
  auto proxy = berth::Spawn(spawn);
  REQUIRE(proxy.ok());
  for (int i = 0; i < 100 && !std::filesystem::exists(port_file); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto port = berth::ReadFileToString(port_file);
  REQUIRE(port.ok());
  std::vector<PullProgress> events;
  auto image = Pull(*s.store, "127.0.0.1:" + *port + "/layered:latest", &events);
  INFO(image.status().ToString());
  REQUIRE(image.ok());
  REQUIRE(image->parsed.layers.size() == 2);
  auto requests = berth::ReadFileToString(log);
  REQUIRE(requests.ok());
  INFO(*requests);
  for (const Descriptor& layer : image->parsed.layers) {
    CHECK(s.store->Has(*berth::ParseDigest(layer.digest)));
    // Asked again from the half it had.
    CHECK(absl::StrContains(*requests,
                            absl::StrCat("/blobs/", layer.digest, " bytes=", layer.size / 2, "-")));
  }
  REQUIRE(proxy->Signal(SIGTERM).ok());
  (void)proxy->Wait();
}

TEST_CASE("pull: a blob downloaded whole but never committed is committed, not fetched again") {
  OwnRegistry registry;
  Store s;
  auto blob =
      berth::ReadFileToString(registry.dir + "/oci/blobs/sha256/" + registry.top_layer.substr(7));
  REQUIRE(blob.ok());
  auto writer = s.store->Writer(registry.top_layer.substr(7));
  REQUIRE(writer.ok());
  REQUIRE((*writer)->Write(*blob).ok());
  writer->reset();
  std::vector<PullProgress> events;
  auto image = Pull(*s.store, registry.address + "/layered:latest", &events);
  INFO(image.status().ToString());
  REQUIRE(image.ok());
  for (const PullProgress& p : events) {
    if (p.digest == registry.top_layer) CHECK(p.status != "downloading");
  }
  CHECK(s.store->Has(*berth::ParseDigest(registry.top_layer)));
}

TEST_CASE("pull: a corrupt or truncated blob in the registry is never committed") {
  OwnRegistry registry;
  Store s;
  std::string stored = registry.StoredBlob(registry.top_layer);
  auto original = berth::ReadFileToString(stored);
  REQUIRE(original.ok());
  SECTION("corrupt: same size, other bytes") {
    std::string bad = *original;
    bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0x5a);
    REQUIRE(berth::WriteStringToFile(stored, bad).ok());
    auto image = Pull(*s.store, registry.address + "/layered:latest");
    CHECK(image.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(absl::StrContains(image.status().message(), registry.top_layer));
  }
  SECTION("truncated") {
    REQUIRE(berth::WriteStringToFile(stored, original->substr(0, original->size() - 100)).ok());
    auto image = Pull(*s.store, registry.address + "/layered:latest");
    CHECK_FALSE(image.ok());
  }
  CHECK_FALSE(s.store->Has(*berth::ParseDigest(registry.top_layer)));
  // Once the registry serves the right bytes again, the pull succeeds.
  REQUIRE(berth::WriteStringToFile(stored, *original).ok());
  auto image = Pull(*s.store, registry.address + "/layered:latest");
  INFO(image.status().ToString());
  CHECK(image.ok());
}

TEST_CASE("pull: two pulls of one image at once both succeed, each blob written once") {
  Registry& registry = TheRegistry();
  Store s;
  std::vector<PullProgress> a_events, b_events;
  absl::StatusOr<PulledImage> a = absl::UnknownError("not run"), b = absl::UnknownError("not run");
  std::thread first([&] { a = Pull(*s.store, registry.address + "/busybox:latest", &a_events); });
  std::thread second([&] { b = Pull(*s.store, registry.address + "/busybox:latest", &b_events); });
  first.join();
  second.join();
  INFO(a.status().ToString() << " / " << b.status().ToString());
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->manifest.digest == b->manifest.digest);
  auto listed = s.store->List();
  REQUIRE(listed.ok());
  CHECK(listed->size() == 2 + a->parsed.layers.size());  // manifest, config, layers
}
