#include "common/fd_util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/berth-unit-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

}  // namespace

TEST_CASE("WriteFileAtomic then ReadFileToString round-trips with the mode") {
  TempDir dir;
  std::string file = dir.path + "/state.json";
  REQUIRE(berth::WriteFileAtomic(file, "{\"a\":1}", 0600).ok());
  auto data = berth::ReadFileToString(file);
  REQUIRE(data.ok());
  CHECK(*data == "{\"a\":1}");
  struct stat st;
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  // Replacing leaves no temporary files behind.
  REQUIRE(berth::WriteFileAtomic(file, "new").ok());
  CHECK(*berth::ReadFileToString(file) == "new");
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path)) (void)e, ++entries;
  CHECK(entries == 1);
}

TEST_CASE("WriteFileAtomic into a missing directory fails and names the path") {
  auto st = berth::WriteFileAtomic("/nonexistent-dir-berth/x", "data");
  CHECK(st.code() == absl::StatusCode::kNotFound);
  CHECK(std::string(st.message()).find("/nonexistent-dir-berth/x") != std::string::npos);
}

TEST_CASE("ReadFileToString of a missing file is NotFound naming the file") {
  auto data = berth::ReadFileToString("/nonexistent-berth-file");
  REQUIRE_FALSE(data.ok());
  CHECK(data.status().code() == absl::StatusCode::kNotFound);
  CHECK(data.status().message() == "open /nonexistent-berth-file: No such file or directory");
}

TEST_CASE("ReadFileToString of a directory reports the read error") {
  auto data = berth::ReadFileToString("/");
  REQUIRE_FALSE(data.ok());
  CHECK(data.status().message().find("/") != std::string::npos);
}

TEST_CASE("MakePipe gives close-on-exec ends that carry data") {
  auto pipe = berth::MakePipe();
  REQUIRE(pipe.ok());
  CHECK((::fcntl(pipe->first.Get(), F_GETFD) & FD_CLOEXEC) != 0);
  CHECK((::fcntl(pipe->second.Get(), F_GETFD) & FD_CLOEXEC) != 0);
  REQUIRE(berth::WriteAll(pipe->second.Get(), "hello").ok());
  pipe->second.Reset();
  auto all = berth::ReadAll(pipe->first.Get());
  REQUIRE(all.ok());
  CHECK(*all == "hello");
}

TEST_CASE("WriteAll to a closed pipe fails with EPIPE") {
  ::signal(SIGPIPE, SIG_IGN);
  auto pipe = berth::MakePipe();
  REQUIRE(pipe.ok());
  pipe->first.Reset();
  auto st = berth::WriteAll(pipe->second.Get(), "x");
  CHECK(st.code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("OpenAt is relative to the directory and close-on-exec") {
  TempDir dir;
  auto dirfd = berth::OpenFile(dir.path, O_RDONLY | O_DIRECTORY);
  REQUIRE(dirfd.ok());
  auto fd = berth::OpenAt(dirfd->Get(), "f", O_WRONLY | O_CREAT, 0644);
  REQUIRE(fd.ok());
  CHECK((::fcntl(fd->Get(), F_GETFD) & FD_CLOEXEC) != 0);
  CHECK(std::filesystem::exists(dir.path + "/f"));
  CHECK_FALSE(berth::OpenAt(dirfd->Get(), "missing", O_RDONLY).ok());
}
