#include "highlevel-runtime/content/content_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"

namespace {

using berth::Digest;
using berth::Sha256Of;
using berth::runtimed::ContentStore;
using berth::runtimed::ContentWriter;

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/berth-content-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

std::string Message(const absl::Status& st) { return std::string(st.message()); }

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  for (auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename());
  return out;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

ContentStore OpenStore(const TempDir& dir) {
  auto store = ContentStore::Open(dir.path + "/root");
  REQUIRE(store.ok());
  return *std::move(store);
}

std::unique_ptr<ContentWriter> NewWriter(ContentStore& store, absl::string_view ref) {
  auto w = store.Writer(ref);
  INFO(w.status().ToString());
  REQUIRE(w.ok());
  return *std::move(w);
}

void Put(ContentStore& store, absl::string_view ref, absl::string_view data) {
  auto w = NewWriter(store, ref);
  REQUIRE(w->Write(data).ok());
  auto st = w->Commit(Sha256Of(data), static_cast<int64_t>(data.size()));
  INFO(st.ToString());
  REQUIRE(st.ok());
}

}  // namespace

TEST_CASE("Open creates the blob and ingest directories") {
  TempDir dir;
  auto store = ContentStore::Open(dir.path + "/a/b");
  REQUIRE(store.ok());
  CHECK(store->root() == dir.path + "/a/b");
  CHECK(std::filesystem::is_directory(dir.path + "/a/b/blobs/sha256"));
  CHECK(std::filesystem::is_directory(dir.path + "/a/b/ingest"));
  // Opening again is fine; a file in the way is not.
  CHECK(ContentStore::Open(dir.path + "/a/b").ok());
  std::ofstream(dir.path + "/file") << "x";
  auto bad = ContentStore::Open(dir.path + "/file");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(Message(bad.status()), Catch::Contains(dir.path + "/file"));
}

TEST_CASE("Write and Commit make a blob that Info, Has, ReadBlob, List and Delete see") {
  TempDir dir;
  ContentStore store = OpenStore(dir);
  const std::string data = "{\"schemaVersion\":2}";
  const Digest digest = Sha256Of(data);
  CHECK_FALSE(store.Has(digest));

  absl::Time before = absl::Now() - absl::Seconds(2);
  auto w = NewWriter(store, digest.hex);
  CHECK(w->Offset() == 0);
  REQUIRE(w->Write(data.substr(0, 5)).ok());
  REQUIRE(w->Write(data.substr(5)).ok());
  CHECK(w->Offset() == static_cast<int64_t>(data.size()));
  // Nothing is visible before the commit.
  CHECK_FALSE(store.Has(digest));
  REQUIRE(w->Commit(digest, static_cast<int64_t>(data.size())).ok());

  CHECK(store.BlobPath(digest) == dir.path + "/root/blobs/sha256/" + digest.hex);
  CHECK(store.Has(digest));
  auto info = store.Info(digest);
  REQUIRE(info.ok());
  CHECK(info->digest == digest);
  CHECK(info->size == static_cast<int64_t>(data.size()));
  CHECK(info->created_at > before);
  CHECK(info->created_at < absl::Now() + absl::Seconds(2));

  auto blob = store.ReadBlob(digest);
  REQUIRE(blob.ok());
  CHECK(*blob == data);

  // Committed content cannot be modified by accident, and no ingest is left.
  struct stat st;
  REQUIRE(::stat(store.BlobPath(digest).c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0444);
  CHECK(Entries(dir.path + "/root/ingest").empty());

  // The writer is done.
  CHECK(w->Write("more").code() == absl::StatusCode::kFailedPrecondition);
  CHECK(w->Commit(digest, -1).code() == absl::StatusCode::kFailedPrecondition);

  Put(store, "other", "layer bytes");
  auto list = store.List();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  // Sorted by digest.
  CHECK((*list)[0].digest.hex < (*list)[1].digest.hex);
  CHECK(((*list)[0].digest == digest || (*list)[1].digest == digest));
  CHECK(((*list)[0].digest == Sha256Of("layer bytes") ||
         (*list)[1].digest == Sha256Of("layer bytes")));

  REQUIRE(store.Delete(digest).ok());
  CHECK_FALSE(store.Has(digest));
  CHECK(store.Has(Sha256Of("layer bytes")));
  CHECK(store.List()->size() == 1);
}

TEST_CASE("Absent content is NotFound naming the digest") {
  TempDir dir;
  ContentStore store = OpenStore(dir);
  const Digest digest = Sha256Of("nothing");
  auto info = store.Info(digest);
  CHECK(info.status().code() == absl::StatusCode::kNotFound);
  CHECK_THAT(Message(info.status()), Catch::Contains(digest.ToString()));
  CHECK(store.ReadBlob(digest).status().code() == absl::StatusCode::kNotFound);
  CHECK_THAT(Message(store.ReadBlob(digest).status()), Catch::Contains(digest.ToString()));
  CHECK(store.Delete(digest).code() == absl::StatusCode::kNotFound);
  auto list = store.List();
  REQUIRE(list.ok());
  CHECK(list->empty());
}

TEST_CASE("A digest that is no digest never becomes a path") {
  TempDir dir;
  ContentStore store = OpenStore(dir);
  std::ofstream(dir.path + "/root/secret") << "x";
  const Digest evil{"sha256", "../../secret"};
  CHECK(store.Info(evil).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_FALSE(store.Has(evil));
  CHECK(store.ReadBlob(evil).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(store.Delete(evil).code() == absl::StatusCode::kInvalidArgument);
  CHECK(Exists(dir.path + "/root/secret"));

  auto w = NewWriter(store, "x");
  REQUIRE(w->Write("x").ok());
  CHECK(w->Commit(evil, 1).code() == absl::StatusCode::kInvalidArgument);
  CHECK(w->Commit(Digest{"md5", Sha256Of("x").hex}, 1).code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("A digest mismatch is FailedPrecondition naming both digests and drops the ingest") {
  TempDir dir;
  ContentStore store = OpenStore(dir);
  const Digest expected = Sha256Of("what the manifest promised");
  auto w = NewWriter(store, "pull-1");
  REQUIRE(w->Write("what the registry sent").ok());
  auto st = w->Commit(expected, -1);
  CHECK(st.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(Message(st), Catch::Contains(expected.ToString()));
  CHECK_THAT(Message(st), Catch::Contains(Sha256Of("what the registry sent").ToString()));
  CHECK_FALSE(store.Has(expected));
  CHECK_FALSE(store.Has(Sha256Of("what the registry sent")));
  CHECK(Entries(dir.path + "/root/blobs/sha256").empty());
  CHECK(Entries(dir.path + "/root/ingest").empty());
  CHECK(w->Write("x").code() == absl::StatusCode::kFailedPrecondition);
  // The ref starts over.
  CHECK(NewWriter(store, "pull-1")->Offset() == 0);
}

TEST_CASE("A size mismatch is an error: too much drops the ingest, too little keeps it") {
  TempDir dir;
  ContentStore store = OpenStore(dir);
  const std::string data = "0123456789";
  const Digest digest = Sha256Of(data);

  SECTION("more bytes than expected") {
    auto w = NewWriter(store, "big");
    REQUIRE(w->Write(data).ok());
    auto st = w->Commit(digest, 9);
    CHECK(st.code() == absl::StatusCode::kFailedPrecondition);
    CHECK_THAT(Message(st), Catch::Contains("10") && Catch::Contains("9"));
    CHECK_FALSE(store.Has(digest));
    CHECK(Entries(dir.path + "/root/ingest").empty());
  }
  SECTION("fewer bytes than expected: the rest can still come") {
    auto w = NewWriter(store, "short");
    REQUIRE(w->Write(data.substr(0, 4)).ok());
    auto st = w->Commit(digest, 10);
    CHECK(st.code() == absl::StatusCode::kFailedPrecondition);
    CHECK_THAT(Message(st), Catch::Contains("have 4 bytes, expected 10"));
    CHECK_FALSE(store.Has(digest));
    CHECK(Entries(dir.path + "/root/ingest") == std::vector<std::string>{"short"});
    REQUIRE(w->Write(data.substr(4)).ok());
    REQUIRE(w->Commit(digest, 10).ok());
    CHECK(*store.ReadBlob(digest) == data);
  }
  SECTION("the right digest with a wrong size") {
    auto w = NewWriter(store, "right-digest");
    REQUIRE(w->Write(data).ok());
    CHECK_FALSE(w->Commit(digest, 11).ok());
    CHECK_FALSE(store.Has(digest));
  }
}

TEST_CASE("An ingest outlives its writer: reopening the ref resumes at its offset") {
  TempDir dir;
  ContentStore store = OpenStore(dir);
  std::string data;
  for (int i = 0; i < 300000; ++i) data += static_cast<char>(i * 7 % 251);
  const Digest digest = Sha256Of(data);
  const size_t half = data.size() / 2;
  {
    auto w = NewWriter(store, digest.hex);
    REQUIRE(w->Write(absl::string_view(data).substr(0, half)).ok());
  }  // dropped, as a killed pull would
  CHECK_FALSE(store.Has(digest));
  {
    // A fresh store object, as after a restart.
    ContentStore again = OpenStore(dir);
    auto w = NewWriter(again, digest.hex);
    CHECK(w->Offset() == static_cast<int64_t>(half));
    REQUIRE(w->Write(absl::string_view(data).substr(half)).ok());
    CHECK(w->Offset() == static_cast<int64_t>(data.size()));
    // The digest covers what the first writer wrote too.
    auto st = w->Commit(digest, static_cast<int64_t>(data.size()));
    INFO(st.ToString());
    REQUIRE(st.ok());
  }
  CHECK(*store.ReadBlob(digest) == data);
  CHECK(Entries(dir.path + "/root/ingest").empty());
}

TEST_CASE("Truncate drops what was written, so the content can be written again") {
  TempDir dir;
  ContentStore store = OpenStore(dir);
  const std::string data = "the real content";
  {
    auto w = NewWriter(store, "ref");
    REQUIRE(w->Write("garbage from a refused Range request").ok());
  }
  auto w = NewWriter(store, "ref");
  CHECK(w->Offset() > 0);
  REQUIRE(w->Truncate().ok());
  CHECK(w->Offset() == 0);
  CHECK(std::filesystem::file_size(dir.path + "/root/ingest/ref") == 0);
  REQUIRE(w->Write(data).ok());
  CHECK(w->Offset() == static_cast<int64_t>(data.size()));
  auto st = w->Commit(Sha256Of(data), static_cast<int64_t>(data.size()));
  INFO(st.ToString());
  REQUIRE(st.ok());
  CHECK(*store.ReadBlob(Sha256Of(data)) == data);
}

TEST_CASE("Abort removes the ingest") {
  TempDir dir;
  ContentStore store = OpenStore(dir);
  auto w = NewWriter(store, "ref");
  REQUIRE(w->Write("partial").ok());
  CHECK(Exists(dir.path + "/root/ingest/ref"));
  w->Abort();
  CHECK_FALSE(Exists(dir.path + "/root/ingest/ref"));
  CHECK(w->Write("x").code() == absl::StatusCode::kFailedPrecondition);
  w->Abort();  // twice is harmless
  CHECK(NewWriter(store, "ref")->Offset() == 0);
}

TEST_CASE("Refs that are not plain names are refused") {
  TempDir dir;
  ContentStore store = OpenStore(dir);
  const std::vector<std::string> refs = {"../x", "a/b",  "/etc/passwd",        "", ".", "..",
                                         "a b",  "a\nb", std::string(256, 'a')};
  for (const std::string& ref : refs) {
    INFO(ref);
    auto w = store.Writer(ref);
    REQUIRE_FALSE(w.ok());
    CHECK(w.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(Message(w.status()), Catch::StartsWith("invalid ingest ref"));
  }
  CHECK(Entries(dir.path + "/root/ingest").empty());
  CHECK_FALSE(Exists(dir.path + "/root/x"));
  // What is allowed.
  CHECK(store.Writer("Az09_.-").ok());
  CHECK(store.Writer("...").ok());
  CHECK(store.Writer(std::string(255, 'a')).ok());
}

TEST_CASE("Committing content that already exists is OK and keeps the first blob") {
  TempDir dir;
  ContentStore store = OpenStore(dir);
  const std::string data = "same layer, pulled twice";
  const Digest digest = Sha256Of(data);
  Put(store, "first", data);
  struct stat first;
  REQUIRE(::stat(store.BlobPath(digest).c_str(), &first) == 0);

  Put(store, "second", data);
  struct stat second;
  REQUIRE(::stat(store.BlobPath(digest).c_str(), &second) == 0);
  CHECK(second.st_ino == first.st_ino);
  CHECK(*store.ReadBlob(digest) == data);
  CHECK(store.List()->size() == 1);
  CHECK(Entries(dir.path + "/root/ingest").empty());
}

TEST_CASE("One writer per ref at a time") {
  TempDir dir;
  ContentStore store = OpenStore(dir);
  auto w = NewWriter(store, "ref");
  REQUIRE(w->Write("abc").ok());
  auto second = store.Writer("ref");
  CHECK(second.status().code() == absl::StatusCode::kUnavailable);
  CHECK_THAT(Message(second.status()), Catch::Contains("\"ref\""));
  CHECK(store.Writer("other").ok());
  w.reset();
  auto third = store.Writer("ref");
  REQUIRE(third.ok());
  CHECK((*third)->Offset() == 3);
}

TEST_CASE("List skips files in the blob directory that are not blobs") {
  TempDir dir;
  ContentStore store = OpenStore(dir);
  Put(store, "a", "a");
  std::ofstream(dir.path + "/root/blobs/sha256/stray.tmp") << "x";
  std::ofstream(dir.path + "/root/blobs/sha256/" + std::string(64, 'A')) << "x";
  auto list = store.List();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].digest == Sha256Of("a"));
  CHECK((*list)[0].size == 1);
}
