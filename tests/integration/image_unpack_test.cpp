// Image layers unpacked into overlay snapshots and mounted for real: the
// two-layer fixture (a whiteout and an opaque directory in layer 2) read from
// its OCI layout into a content store, unpacked by chain ID, a writable
// snapshot prepared on top and mounted with overlayfs. Root only; every
// mount and temp dir goes at the end.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "common/fd_util.h"
#include "common/json.h"
#include "common/process.h"
#include "highlevel-runtime/snapshots/image_unpacker.h"

namespace {

using namespace berth::runtimed;
namespace fs = std::filesystem;

struct Fixture {
  Fixture() {
    char tmpl[] = "/tmp/berth-unpack-test-XXXXXX";
    dir = ::mkdtemp(tmpl);
    auto built = berth::RunAndCapture({BERTH_FIXTURES "/layered-image.sh", dir + "/oci"});
    REQUIRE(built.ok());
    REQUIRE(built->exit_code == 0);
    auto store = ContentStore::Open(dir + "/content");
    REQUIRE(store.ok());
    content.emplace(std::move(*store));
    // Every blob of the layout into the store, verified on the way in.
    for (const auto& entry : fs::directory_iterator(dir + "/oci/blobs/sha256")) {
      auto data = berth::ReadFileToString(entry.path());
      REQUIRE(data.ok());
      auto digest = berth::ParseDigest("sha256:" + entry.path().filename().string());
      REQUIRE(digest.ok());
      auto writer = content->Writer(digest->hex);
      REQUIRE(writer.ok());
      REQUIRE((*writer)->Write(*data).ok());
      REQUIRE((*writer)->Commit(*digest, static_cast<int64_t>(data->size())).ok());
    }
    auto index = berth::ReadJsonFile(dir + "/oci/index.json");
    REQUIRE(index.ok());
    auto manifest_digest =
        berth::ParseDigest((*index)["manifests"][0]["digest"].get<std::string>());
    REQUIRE(manifest_digest.ok());
    auto parsed = ParseManifest(*content->ReadBlob(*manifest_digest));
    REQUIRE(parsed.ok());
    manifest = *parsed;
    auto cfg = ParseImageConfig(*content->ReadBlob(*berth::ParseDigest(manifest.config.digest)));
    REQUIRE(cfg.ok());
    config = *cfg;
    auto opened = OpenMetadataDb(dir + "/metadata.db");
    REQUIRE(opened.ok());
    db = std::move(*opened);
    snapshots.emplace(*db, dir + "/snapshots");
  }
  ~Fixture() {
    for (const std::string& m : mounted) ::umount2(m.c_str(), MNT_DETACH);
    snapshots.reset();
    db.reset();
    fs::remove_all(dir);
  }

  // Mounts `mounts` (what the snapshotter returned) on a new directory.
  std::string Mount(const std::vector<berth::runtimed::Mount>& mounts) {
    REQUIRE(mounts.size() == 1);
    std::string target = dir + "/mnt" + std::to_string(mounted.size());
    fs::create_directories(target);
    std::string options = absl::StrJoin(mounts[0].options, ",");
    unsigned long flags = 0;
    if (mounts[0].type == "bind") {
      flags = MS_BIND | MS_REC;
      options.clear();
    }
    INFO(mounts[0].type << " " << options);
    REQUIRE(::mount(mounts[0].source.c_str(), target.c_str(),
                    mounts[0].type == "bind" ? nullptr : mounts[0].type.c_str(), flags,
                    options.empty() ? nullptr : options.c_str()) == 0);
    mounted.push_back(target);
    return target;
  }

  std::string dir;
  std::optional<ContentStore> content;
  Manifest manifest;
  ImageConfig config;
  std::unique_ptr<MetadataDb> db;
  std::optional<Snapshotter> snapshots;
  std::vector<std::string> mounted;
};

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace

TEST_CASE("unpack: two layers with a whiteout and an opaque dir, mounted with overlayfs",
          "[root]") {
  if (::geteuid() != 0) {
    WARN("skipped: needs root");
    return;
  }
  Fixture f;
  REQUIRE(f.manifest.layers.size() == 2);
  auto top = UnpackImage(*f.snapshots, *f.content, "test", f.manifest, f.config);
  REQUIRE(top.ok());
  std::vector<std::string> chains = ChainIds(f.config.diff_ids);
  CHECK(chains[0] == f.config.diff_ids[0]);
  CHECK(*top == chains[1]);
  auto listed = f.snapshots->List("test");
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);
  CHECK((*listed)[1].parent == chains[0]);
  CHECK((*listed)[1].kind == "committed");

  // A container's writable snapshot over the image.
  auto mounts = f.snapshots->Prepare("test", "container-1", *top);
  REQUIRE(mounts.ok());
  CHECK((*mounts)[0].type == "overlay");
  std::string root = f.Mount(*mounts);
  CHECK(Exists(root + "/bin/busybox"));
  CHECK(Exists(root + "/data/keep.txt"));
  CHECK_FALSE(Exists(root + "/data/gone.txt"));
  CHECK_FALSE(Exists(root + "/opaque/old.txt"));
  CHECK(Exists(root + "/opaque/new.txt"));
  CHECK(Exists(root + "/etc/layer2"));
  // Writes land in the active snapshot, not in the image's.
  { std::ofstream(root + "/written") << "x"; }
  auto info = f.snapshots->Stat("test", "container-1");
  REQUIRE(info.ok());
  CHECK(Exists(f.snapshots->FsDir(info->id) + "/written"));

  // The image's snapshots stay while a container's sits on them.
  CHECK(f.snapshots->Remove("test", *top).code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(::umount2(root.c_str(), 0) == 0);
  f.mounted.clear();
  REQUIRE(f.snapshots->Remove("test", "container-1").ok());
  CHECK_FALSE(Exists(f.snapshots->FsDir(info->id)));

  // Unpacking again reuses the committed layers.
  REQUIRE(UnpackImage(*f.snapshots, *f.content, "test", f.manifest, f.config).ok());
  CHECK(f.snapshots->List("test")->size() == 2);
  // Another namespace has its own.
  CHECK(f.snapshots->List("other")->empty());

  // A view of the base layer alone: layer 1's files, before the whiteout.
  auto view = f.snapshots->View("test", "view-1", chains[0]);
  REQUIRE(view.ok());
  std::string base = f.Mount(*view);
  CHECK(Exists(base + "/data/gone.txt"));
  CHECK(Exists(base + "/opaque/old.txt"));
}

TEST_CASE("unpack: a layer whose content is not the config's diff_id is refused, nothing kept",
          "[root]") {
  if (::geteuid() != 0) {
    WARN("skipped: needs root");
    return;
  }
  Fixture f;
  ImageConfig lying = f.config;
  lying.diff_ids[1] = berth::Sha256Of("something else").ToString();
  auto top = UnpackImage(*f.snapshots, *f.content, "test", f.manifest, lying);
  CHECK(top.status().code() == absl::StatusCode::kDataLoss);
  CHECK(absl::StrContains(top.status().message(), "layer 1"));
  // Layer 0 is good and stays committed; nothing of layer 1 remains.
  auto listed = f.snapshots->List("test");
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].key == f.config.diff_ids[0]);
  size_t dirs = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(f.dir + "/snapshots")) ++dirs;
  CHECK(dirs == 1);
}
