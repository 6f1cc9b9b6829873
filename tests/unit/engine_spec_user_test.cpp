// Docker's User string resolved against the image's /etc/passwd and /etc/group.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "common/fd_util.h"
#include "engine/spec/user_lookup.h"

namespace fs = std::filesystem;
using berth::engine::spec::LookupUser;
using berth::engine::spec::ReadFileInRoot;
using berth::engine::spec::ResolveUser;
using berth::engine::spec::User;

namespace {

constexpr char kPasswd[] =
    "root:x:0:0:root:/root:/bin/sh\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "  \n"
    "# a comment\n"
    "berth:x:1000:1000:berth:/home/berth:/bin/sh\n"
    "1234:x:5000:5000:numeric name:/:/bin/sh\n";
constexpr char kGroup[] =
    "root:x:0:\n"
    "wheel:x:10:root,berth\n"
    "berth:x:1000:\n"
    "extra:x:2000:berth\n"
    "audio:x:29:daemon\n";

// A temporary directory removed at scope exit.
struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/berth-spec-user-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

std::string Message(const absl::StatusOr<User>& user) {
  return std::string(user.status().message());
}

}  // namespace

TEST_CASE("user: empty means root, with root's groups from /etc/group") {
  auto user = ResolveUser("", kPasswd, kGroup);
  REQUIRE(user.ok());
  CHECK(user->uid == 0);
  CHECK(user->gid == 0);
  CHECK(user->additional_gids == std::vector<uint32_t>{10});
}

TEST_CASE("user: a name gives its uid, primary gid and every group listing it") {
  auto user = ResolveUser("berth", kPasswd, kGroup);
  REQUIRE(user.ok());
  CHECK(user->uid == 1000);
  CHECK(user->gid == 1000);
  CHECK(user->additional_gids == std::vector<uint32_t>{10, 2000});
}

TEST_CASE("user: a number is always a uid, found in passwd or not") {
  auto known = ResolveUser("1", kPasswd, kGroup);
  REQUIRE(known.ok());
  CHECK(known->uid == 1);
  CHECK(known->gid == 1);
  CHECK(known->additional_gids == std::vector<uint32_t>{29});
  // Not a passwd entry: the uid as is, gid 0, no groups.
  auto unknown = ResolveUser("4242", kPasswd, kGroup);
  REQUIRE(unknown.ok());
  CHECK(unknown->uid == 4242);
  CHECK(unknown->gid == 0);
  CHECK(unknown->additional_gids.empty());
  // "1234" is a uid, never the user named "1234".
  CHECK(ResolveUser("1234", kPasswd, kGroup)->uid == 1234);
}

TEST_CASE("user: an explicit group sets the gid and no supplementary groups") {
  auto by_name = ResolveUser("berth:extra", kPasswd, kGroup);
  REQUIRE(by_name.ok());
  CHECK(by_name->uid == 1000);
  CHECK(by_name->gid == 2000);
  CHECK(by_name->additional_gids.empty());
  auto numeric = ResolveUser("1000:777", kPasswd, kGroup);
  REQUIRE(numeric.ok());
  CHECK(numeric->uid == 1000);
  CHECK(numeric->gid == 777);
  auto name_gid = ResolveUser("daemon:10", kPasswd, kGroup);
  REQUIRE(name_gid.ok());
  CHECK(name_gid->uid == 1);
  CHECK(name_gid->gid == 10);
}

TEST_CASE("user: unknown names fail with dockerd's messages") {
  auto user = ResolveUser("xyz", kPasswd, kGroup);
  REQUIRE_FALSE(user.ok());
  CHECK(user.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Message(user) == "unable to find user xyz: no matching entries in passwd file");
  CHECK(Message(ResolveUser("berth:nogroup", kPasswd, kGroup)) ==
        "unable to find group nogroup: no matching entries in group file");
  CHECK(Message(ResolveUser("-1", kPasswd, kGroup)) ==
        "uids and gids must be in range 0-2147483647");
  CHECK(Message(ResolveUser("0:99999999999", kPasswd, kGroup)) ==
        "uids and gids must be in range 0-2147483647");
}

TEST_CASE("user: without passwd and group files only numbers and root resolve") {
  CHECK(ResolveUser("", std::nullopt, std::nullopt)->uid == 0);
  auto numeric = ResolveUser("1000:1000", std::nullopt, std::nullopt);
  REQUIRE(numeric.ok());
  CHECK(numeric->uid == 1000);
  CHECK(numeric->gid == 1000);
  CHECK(Message(ResolveUser("root", std::nullopt, std::nullopt)) ==
        "unable to find user root: no matching entries in passwd file");
}

TEST_CASE("user: GroupAdd adds groups by name or number") {
  auto user = ResolveUser("berth", kPasswd, kGroup, {"audio", "4000", "extra"});
  REQUIRE(user.ok());
  CHECK(user->additional_gids == std::vector<uint32_t>{10, 2000, 29, 4000});
  CHECK(Message(ResolveUser("berth", kPasswd, kGroup, {"video"})) ==
        "unable to find group video: no matching entries in group file");
}

TEST_CASE("user: LookupUser reads the rootfs's files") {
  TempDir root;
  fs::create_directories(root.path + "/etc");
  REQUIRE(berth::WriteStringToFile(root.path + "/etc/passwd", kPasswd).ok());
  REQUIRE(berth::WriteStringToFile(root.path + "/etc/group.real", kGroup).ok());
  // A relative symlink inside the image is followed.
  fs::create_symlink("group.real", root.path + "/etc/group");
  auto user = LookupUser(root.path, "berth");
  REQUIRE(user.ok());
  CHECK(user->uid == 1000);
  CHECK(user->additional_gids == std::vector<uint32_t>{10, 2000});

  TempDir empty;
  CHECK(LookupUser(empty.path, "")->uid == 0);
  CHECK(LookupUser(empty.path, "33:33")->gid == 33);
  CHECK_FALSE(LookupUser(empty.path, "berth").ok());
  CHECK(LookupUser(empty.path + "/missing", "").status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("user: symlinks in the image cannot make berthd read host files") {
  TempDir host;  // stands for the host's /etc
  REQUIRE(
      berth::WriteStringToFile(host.path + "/passwd", "hostonly:x:4242:4242::/:/bin/sh\n").ok());
  REQUIRE(berth::WriteStringToFile(host.path + "/group", "hostgroup:x:4242:hostonly\n").ok());

  TempDir root;
  fs::create_directories(root.path + "/etc");
  // Absolute: resolved inside the rootfs, where it does not exist.
  fs::create_symlink(host.path + "/passwd", root.path + "/etc/passwd");
  // Relative with enough "..": clamped at the rootfs's root.
  fs::create_symlink("../../../../../../../.." + host.path + "/group", root.path + "/etc/group");
  CHECK(berth::ReadFileToString(root.path + "/etc/passwd").ok());  // the host would follow it

  auto content = ReadFileInRoot(root.path, "/etc/passwd");
  REQUIRE(content.ok());
  CHECK_FALSE(content->has_value());
  auto user = LookupUser(root.path, "hostonly");
  REQUIRE_FALSE(user.ok());
  CHECK(Message(user) == "unable to find user hostonly: no matching entries in passwd file");
  CHECK(LookupUser(root.path, "0:hostgroup").status().message() ==
        "unable to find group hostgroup: no matching entries in group file");

  // The same target inside the rootfs is what gets read.
  fs::create_directories(root.path + host.path);
  REQUIRE(berth::WriteStringToFile(root.path + host.path + "/passwd", "hostonly:x:7:7::/:/bin/sh\n")
              .ok());
  auto inside = LookupUser(root.path, "hostonly");
  REQUIRE(inside.ok());
  CHECK(inside->uid == 7);
}

TEST_CASE("user: a passwd that is not a regular file is refused") {
  TempDir root;
  fs::create_directories(root.path + "/etc/passwd");
  auto user = LookupUser(root.path, "root");
  REQUIRE_FALSE(user.ok());
  CHECK(user.status().code() == absl::StatusCode::kFailedPrecondition);
  // A self-referencing symlink loops rather than escaping.
  TempDir loop;
  fs::create_directories(loop.path + "/etc");
  fs::create_symlink("/etc/passwd", loop.path + "/etc/passwd");
  CHECK_FALSE(LookupUser(loop.path, "root").ok());
}
