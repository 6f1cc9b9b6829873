// The layer applier on real file systems (root only: chown, mknod, trusted.*
// xattrs, overlay mounts): layers are written here with libarchive's writer,
// applied into temp dirs, and checked file by file and through overlayfs.
#include "highlevel-runtime/unpack/layer_applier.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fd_util.h"
#include "common/unique_fd.h"

using berth::runtimed::ApplyLayer;
using berth::runtimed::ApplyStats;

namespace {

#define REQUIRE_ROOT()                                                       \
  do {                                                                       \
    if (::geteuid() != 0) {                                                  \
      WARN("skipped: needs root (chown, mknod, trusted xattrs, overlayfs)"); \
      return;                                                                \
    }                                                                        \
  } while (0)

// A directory under /tmp, removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/berth-unpack-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Creates (mkdir) and returns path()/name.
  std::string Sub(const std::string& name) const {
    std::string p = path_ + "/" + name;
    REQUIRE(::mkdir(p.c_str(), 0755) == 0);
    return p;
  }

 private:
  std::string path_;
};

// An overlay mount, unmounted when the test ends (declared after the TempDirs
// it lives in, so it goes first).
class OverlayMount {
 public:
  OverlayMount(const std::string& target, const std::string& options) : target_(target) {
    int rc = ::mount("overlay", target.c_str(), "overlay", 0, options.c_str());
    INFO("mount -t overlay -o " << options << ": " << std::strerror(errno));
    REQUIRE(rc == 0);
    mounted_ = true;
  }
  ~OverlayMount() {
    if (mounted_) ::umount2(target_.c_str(), MNT_DETACH);
  }
  OverlayMount(const OverlayMount&) = delete;
  OverlayMount& operator=(const OverlayMount&) = delete;

 private:
  std::string target_;
  bool mounted_ = false;
};

struct TarEntry {
  std::string path;
  mode_t type = AE_IFREG;
  mode_t perm = 0644;
  std::string data;
  std::string symlink;   // for AE_IFLNK
  std::string hardlink;  // set: a hardlink entry to this path
  int64_t uid = 0;
  int64_t gid = 0;
  time_t mtime = 1700000000;
  long mtime_nsec = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
  unsigned rdev_major = 0;
  unsigned rdev_minor = 0;
};

TarEntry File(std::string path, std::string data, mode_t perm = 0644) {
  TarEntry e;
  e.path = std::move(path);
  e.data = std::move(data);
  e.perm = perm;
  return e;
}
TarEntry Dir(std::string path, mode_t perm = 0755) {
  TarEntry e;
  e.path = std::move(path);
  e.type = AE_IFDIR;
  e.perm = perm;
  return e;
}
TarEntry Symlink(std::string path, std::string to) {
  TarEntry e;
  e.path = std::move(path);
  e.type = AE_IFLNK;
  e.perm = 0777;
  e.symlink = std::move(to);
  return e;
}
TarEntry Hardlink(std::string path, std::string to) {
  TarEntry e;
  e.path = std::move(path);
  e.hardlink = std::move(to);
  return e;
}
TarEntry Whiteout(std::string path) { return File(std::move(path), ""); }

la_ssize_t AppendToString(struct archive*, void* out, const void* buf, size_t size) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), size);
  return static_cast<la_ssize_t>(size);
}

// An uncompressed pax tar of the entries, padded to libarchive's 10 KiB
// records as tar writers do (so the stream goes on after the end marker).
std::string BuildTar(const std::vector<TarEntry>& entries) {
  std::string out;
  struct archive* a = archive_write_new();
  REQUIRE(a != nullptr);
  REQUIRE(archive_write_set_format_pax_restricted(a) == ARCHIVE_OK);
  REQUIRE(archive_write_add_filter_none(a) == ARCHIVE_OK);
  REQUIRE(archive_write_open(a, &out, nullptr, &AppendToString, nullptr) == ARCHIVE_OK);
  for (const TarEntry& t : entries) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, t.path.c_str());
    archive_entry_set_uid(e, t.uid);
    archive_entry_set_gid(e, t.gid);
    archive_entry_set_mtime(e, t.mtime, t.mtime_nsec);
    if (!t.hardlink.empty()) {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, t.perm);
      archive_entry_set_hardlink(e, t.hardlink.c_str());
      archive_entry_set_size(e, 0);
    } else {
      archive_entry_set_filetype(e, t.type);
      archive_entry_set_perm(e, t.perm);
      if (t.type == AE_IFLNK) archive_entry_set_symlink(e, t.symlink.c_str());
      if (t.type == AE_IFCHR || t.type == AE_IFBLK) {
        archive_entry_set_rdevmajor(e, t.rdev_major);
        archive_entry_set_rdevminor(e, t.rdev_minor);
      }
      archive_entry_set_size(e, t.type == AE_IFREG ? static_cast<la_int64_t>(t.data.size()) : 0);
    }
    for (const auto& [name, value] : t.xattrs) {
      archive_entry_xattr_add_entry(e, name.c_str(), value.data(), value.size());
    }
    INFO("writing " << t.path << ": " << archive_error_string(a));
    REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
    if (!t.data.empty()) {
      REQUIRE(archive_write_data(a, t.data.data(), t.data.size()) ==
              static_cast<la_ssize_t>(t.data.size()));
    }
    archive_entry_free(e);
  }
  REQUIRE(archive_write_close(a) == ARCHIVE_OK);
  archive_write_free(a);
  return out;
}

enum class Compression { kNone, kGzip, kZstd };

const char* Name(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "uncompressed";
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
  }
  return "?";
}

// The tar compressed as a whole (libarchive's "raw" format: one stream, no headers).
std::string Compress(const std::string& tar, Compression c) {
  if (c == Compression::kNone) return tar;
  std::string out;
  struct archive* a = archive_write_new();
  REQUIRE(a != nullptr);
  REQUIRE(archive_write_set_format_raw(a) == ARCHIVE_OK);
  REQUIRE((c == Compression::kGzip ? archive_write_add_filter_gzip(a)
                                   : archive_write_add_filter_zstd(a)) == ARCHIVE_OK);
  REQUIRE(archive_write_set_bytes_in_last_block(a, 1) == ARCHIVE_OK);
  REQUIRE(archive_write_open(a, &out, nullptr, &AppendToString, nullptr) == ARCHIVE_OK);
  struct archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, "layer.tar");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, static_cast<la_int64_t>(tar.size()));
  REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
  REQUIRE(archive_write_data(a, tar.data(), tar.size()) == static_cast<la_ssize_t>(tar.size()));
  archive_entry_free(e);
  REQUIRE(archive_write_close(a) == ARCHIVE_OK);
  archive_write_free(a);
  return out;
}

// "sha256:<hex>" straight from OpenSSL, independent of the code under test.
std::string Sha256Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  REQUIRE(EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) == 1);
  return "sha256:" +
         absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(md), len));
}

// Writes the blob to a file in dir and applies it onto target.
absl::StatusOr<ApplyStats> ApplyBlob(const TempDir& dir, const std::string& blob,
                                     const std::string& target) {
  static int counter = 0;
  std::string path = absl::StrCat(dir.path(), "/blob-", ++counter);
  REQUIRE(berth::WriteStringToFile(path, blob).ok());
  auto fd = berth::OpenFile(path, O_RDONLY);
  REQUIRE(fd.ok());
  return ApplyLayer(fd->Get(), target);
}

absl::StatusOr<ApplyStats> Apply(const TempDir& dir, const std::vector<TarEntry>& entries,
                                 const std::string& target, Compression c = Compression::kNone) {
  return ApplyBlob(dir, Compress(BuildTar(entries), c), target);
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

struct stat Lstat(const std::string& path) {
  struct stat st;
  INFO("lstat " << path);
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st;
}

std::string Read(const std::string& path) {
  auto text = berth::ReadFileToString(path);
  INFO("read " << path << ": " << text.status());
  REQUIRE(text.ok());
  return *text;
}

// The xattr's value, or "<absent>".
std::string Xattr(const std::string& path, const char* name) {
  char buf[256];
  ssize_t n = ::lgetxattr(path.c_str(), name, buf, sizeof(buf));
  if (n < 0) return "<absent>";
  return std::string(buf, static_cast<size_t>(n));
}

bool IsWhiteout(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

}  // namespace

TEST_CASE("layer applier: files, dirs, symlinks, hardlinks and nodes keep their metadata",
          "[unpack]") {
  REQUIRE_ROOT();
  TempDir sandbox;
  std::string target = sandbox.Sub("upper");

  std::vector<TarEntry> entries;
  TarEntry root = Dir("./", 0751);
  root.mtime = 1400000000;
  entries.push_back(root);
  entries.push_back(Dir("etc"));
  TarEntry passwd = File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  passwd.uid = 1000;
  passwd.gid = 1001;
  passwd.mtime = 1600000000;
  passwd.mtime_nsec = 123456789;
  passwd.xattrs = {{"trusted.berth.test", "value"},
                   {"user.berth.note", std::string("a\0b", 3)},
                   // overlay's private attributes are not the layer's to set
                   {"trusted.overlay.redirect", "/elsewhere"}};
  entries.push_back(passwd);
  entries.push_back(Hardlink("etc/passwd-", "etc/passwd"));
  entries.push_back(Hardlink("/etc/passwd.abs", "/etc/passwd"));  // absolute: stripped
  TarEntry su = File("bin/su", "#!/bin/sh\n", 04755);             // implicit parent "bin"
  entries.push_back(su);
  TarEntry tool = File("usr/bin/tool", "tool", 02755);
  tool.uid = 1000;
  tool.gid = 50;  // chown clears setgid: the mode must come after it
  entries.push_back(tool);
  TarEntry data_dir = Dir("data", 0700);
  data_dir.uid = 1234;
  data_dir.gid = 4321;
  data_dir.mtime = 1500000000;
  data_dir.mtime_nsec = 5;  // pax_restricted writes sub-second times with a pax header:
  data_dir.xattrs = {{"trusted.berth.dir", "d"}};  // which the xattr forces
  entries.push_back(data_dir);
  entries.push_back(File("data/later", "created after its directory"));
  TarEntry link = Symlink("etc/localtime", "/usr/share/zoneinfo/UTC");
  link.uid = 5;
  link.gid = 6;
  link.mtime = 1300000000;
  entries.push_back(link);
  TarEntry fifo;
  fifo.path = "./run/fifo";
  fifo.type = AE_IFIFO;
  fifo.perm = 0620;
  fifo.uid = 7;
  entries.push_back(fifo);
  TarEntry chr;
  chr.path = "dev/null2";
  chr.type = AE_IFCHR;
  chr.perm = 0666;
  chr.rdev_major = 1;
  chr.rdev_minor = 3;
  entries.push_back(chr);
  TarEntry blk;
  blk.path = "dev/loop200";
  blk.type = AE_IFBLK;
  blk.perm = 0660;
  blk.gid = 6;
  blk.rdev_major = 7;
  blk.rdev_minor = 200;
  entries.push_back(blk);

  auto stats = Apply(sandbox, entries, target);
  INFO(stats.status());
  REQUIRE(stats.ok());
  CHECK(stats->entries == static_cast<int64_t>(entries.size()));

  struct stat st = Lstat(target);
  CHECK((st.st_mode & 07777) == 0751);
  CHECK(st.st_mtim.tv_sec == 1400000000);

  st = Lstat(target + "/etc/passwd");
  CHECK(S_ISREG(st.st_mode));
  CHECK((st.st_mode & 07777) == 0644);
  CHECK(st.st_uid == 1000);
  CHECK(st.st_gid == 1001);
  CHECK(st.st_mtim.tv_sec == 1600000000);
  CHECK(st.st_mtim.tv_nsec == 123456789);
  CHECK(st.st_nlink == 3);
  CHECK(Read(target + "/etc/passwd") == "root:x:0:0:root:/root:/bin/sh\n");
  CHECK(Xattr(target + "/etc/passwd", "trusted.berth.test") == "value");
  CHECK(Xattr(target + "/etc/passwd", "user.berth.note") == std::string("a\0b", 3));
  CHECK(Xattr(target + "/etc/passwd", "trusted.overlay.redirect") == "<absent>");
  CHECK(Lstat(target + "/etc/passwd-").st_ino == st.st_ino);
  CHECK(Lstat(target + "/etc/passwd.abs").st_ino == st.st_ino);

  st = Lstat(target + "/bin/su");
  CHECK((st.st_mode & 07777) == 04755);
  CHECK(st.st_uid == 0);
  st = Lstat(target + "/bin");  // implicit: drwxr-xr-x root
  CHECK(S_ISDIR(st.st_mode));
  CHECK((st.st_mode & 07777) == 0755);
  st = Lstat(target + "/usr/bin/tool");
  CHECK((st.st_mode & 07777) == 02755);
  CHECK(st.st_uid == 1000);
  CHECK(st.st_gid == 50);

  st = Lstat(target + "/data");
  CHECK(S_ISDIR(st.st_mode));
  CHECK((st.st_mode & 07777) == 0700);
  CHECK(st.st_uid == 1234);
  CHECK(st.st_gid == 4321);
  // Set at the end: creating data/later changed it in between.
  CHECK(st.st_mtim.tv_sec == 1500000000);
  CHECK(st.st_mtim.tv_nsec == 5);
  CHECK(Xattr(target + "/data", "trusted.berth.dir") == "d");

  st = Lstat(target + "/etc/localtime");
  CHECK(S_ISLNK(st.st_mode));
  CHECK(st.st_uid == 5);
  CHECK(st.st_gid == 6);
  CHECK(st.st_mtim.tv_sec == 1300000000);
  CHECK(std::filesystem::read_symlink(target + "/etc/localtime") == "/usr/share/zoneinfo/UTC");

  st = Lstat(target + "/run/fifo");
  CHECK(S_ISFIFO(st.st_mode));
  CHECK((st.st_mode & 07777) == 0620);
  CHECK(st.st_uid == 7);
  st = Lstat(target + "/dev/null2");
  CHECK(S_ISCHR(st.st_mode));
  CHECK((st.st_mode & 07777) == 0666);
  CHECK(st.st_rdev == makedev(1, 3));
  st = Lstat(target + "/dev/loop200");
  CHECK(S_ISBLK(st.st_mode));
  CHECK((st.st_mode & 07777) == 0660);
  CHECK(st.st_gid == 6);
  CHECK(st.st_rdev == makedev(7, 200));
}

TEST_CASE("layer applier: gzip, zstd and plain layers apply, diff_id is the plain tar sha256",
          "[unpack]") {
  REQUIRE_ROOT();
  Compression c = GENERATE(Compression::kNone, Compression::kGzip, Compression::kZstd);
  INFO(Name(c));
  TempDir sandbox;
  std::string target = sandbox.Sub("upper");
  std::string big(300000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) % 251);
  std::vector<TarEntry> entries = {Dir("a"), File("a/hello", "hello world\n"), File("a/big", big)};
  // Zeros after the end-of-archive blocks, well past what the tar reader
  // reads ahead: still part of the layer, so part of its diff_id.
  std::string tar = BuildTar(entries) + std::string(600 * 1024, '\0');
  std::string blob = Compress(tar, c);
  // The blob really is in that compression.
  if (c == Compression::kGzip) REQUIRE(blob.substr(0, 2) == "\x1f\x8b");
  if (c == Compression::kZstd) REQUIRE(blob.substr(0, 4) == "\x28\xb5\x2f\xfd");
  if (c != Compression::kNone) REQUIRE(blob != tar);

  auto stats = ApplyBlob(sandbox, blob, target);
  INFO(stats.status());
  REQUIRE(stats.ok());
  CHECK(stats->entries == 3);
  CHECK(stats->bytes == static_cast<int64_t>(tar.size()));
  CHECK(stats->diff_id == Sha256Hex(tar));
  CHECK(Read(target + "/a/hello") == "hello world\n");
  CHECK(Read(target + "/a/big") == big);
}

TEST_CASE("layer applier: whiteouts become 0/0 char devices, opaque markers an xattr", "[unpack]") {
  REQUIRE_ROOT();
  TempDir sandbox;
  std::string target = sandbox.Sub("upper");
  std::vector<TarEntry> entries = {
      Dir("a"),
      Whiteout("a/.wh.gone"),
      Whiteout("deep/er/.wh.file"),  // parents not listed: created
      Dir("c"),
      Whiteout("c/.wh..wh..opq"),
      File("c/new", "new"),
      Whiteout("d/.wh..wh..opq"),  // directory not listed: created
      File("e", "replaced by a whiteout later in the layer"),
      Whiteout(".wh.e"),
      Whiteout(".wh..wh.plnk"),  // docker's aufs metadata: ignored
  };
  auto stats = Apply(sandbox, entries, target);
  INFO(stats.status());
  REQUIRE(stats.ok());
  CHECK(stats->entries == static_cast<int64_t>(entries.size()));

  CHECK(IsWhiteout(target + "/a/gone"));
  CHECK_FALSE(Exists(target + "/a/.wh.gone"));
  CHECK(IsWhiteout(target + "/deep/er/file"));
  CHECK(IsWhiteout(target + "/e"));
  CHECK_FALSE(Exists(target + "/.wh.e"));
  CHECK(Xattr(target + "/c", "trusted.overlay.opaque") == "y");
  CHECK_FALSE(Exists(target + "/c/.wh..wh..opq"));
  CHECK(Read(target + "/c/new") == "new");
  CHECK(Xattr(target + "/d", "trusted.overlay.opaque") == "y");
  CHECK_FALSE(Exists(target + "/.wh..wh.plnk"));
  CHECK(Xattr(target + "/a", "trusted.overlay.opaque") == "<absent>");
}

TEST_CASE("layer applier: overlayfs over applied layers hides whited-out and opaque content",
          "[unpack]") {
  REQUIRE_ROOT();
  TempDir sandbox;
  std::string l1 = sandbox.Sub("layer1");
  std::string l2 = sandbox.Sub("layer2");
  std::string work = sandbox.Sub("work");
  std::string merged = sandbox.Sub("merged");
  std::string merged_rw = sandbox.Sub("merged-rw");

  auto s1 = Apply(sandbox,
                  {Dir("a"), File("a/gone", "1"), File("a/keep", "1"), Dir("c"),
                   File("c/old1", "1"), Dir("c/oldsub"), File("c/oldsub/x", "1"), File("top", "1")},
                  l1, Compression::kGzip);
  INFO(s1.status());
  REQUIRE(s1.ok());
  auto s2 = Apply(sandbox,
                  {Whiteout("a/.wh.gone"), Dir("c"), Whiteout("c/.wh..wh..opq"), File("c/new", "2"),
                   Whiteout(".wh.top")},
                  l2, Compression::kZstd);
  INFO(s2.status());
  REQUIRE(s2.ok());

  // Without the whiteouts, layer1 shows through (the checks below can fail).
  {
    OverlayMount l1_only(merged, absl::StrCat("lowerdir=", l1, ":", sandbox.Sub("empty")));
    CHECK(Read(merged + "/a/gone") == "1");
    CHECK(Read(merged + "/c/old1") == "1");
  }
  // The image as containers see it: layer2 over layer1.
  {
    OverlayMount ro(merged, absl::StrCat("lowerdir=", l2, ":", l1));
    CHECK(Read(merged + "/a/keep") == "1");
    CHECK_FALSE(Exists(merged + "/a/gone"));
    CHECK_FALSE(Exists(merged + "/top"));
    CHECK(Read(merged + "/c/new") == "2");
    CHECK_FALSE(Exists(merged + "/c/old1"));
    CHECK_FALSE(Exists(merged + "/c/oldsub"));
  }
  // layer2 as the upper dir of a writable mount over layer1 reads the same.
  {
    OverlayMount rw(merged_rw, absl::StrCat("lowerdir=", l1, ",upperdir=", l2, ",workdir=", work));
    CHECK(Read(merged_rw + "/a/keep") == "1");
    CHECK_FALSE(Exists(merged_rw + "/a/gone"));
    CHECK_FALSE(Exists(merged_rw + "/top"));
    CHECK(Read(merged_rw + "/c/new") == "2");
    CHECK_FALSE(Exists(merged_rw + "/c/old1"));
  }
}

TEST_CASE("layer applier: refuses entries that would write outside the target", "[unpack]") {
  REQUIRE_ROOT();
  struct Case {
    const char* what;
    std::vector<TarEntry> entries;
    std::string bad_entry;  // the entry the error must name
    std::string why;        // and what is wrong with it
    std::string outside;    // relative to the sandbox: must not appear
  };
  const std::string escapes = "escapes the rootfs";
  const std::string symlink = "is a symlink";
  // The sandbox holds target/ and, beside it, outside/ (an existing directory
  // a write through a symlink would land in).
  std::vector<Case> cases = {
      {"dot-dot", {File("../escape", "x")}, "../escape", escapes, "escape"},
      {"dot-dot after a directory",
       {Dir("a"), File("a/../../escape", "x")},
       "a/../../escape",
       escapes,
       "escape"},
      {"dot-dot from an absolute path", {File("/../escape", "x")}, "/../escape", escapes, "escape"},
      {"through an absolute symlink",
       {Symlink("evil", "@OUTSIDE@"), File("evil/owned", "x")},
       "evil/owned",
       symlink,
       "outside/owned"},
      {"through a relative symlink",
       {Symlink("evil", "../outside"), File("evil/owned", "x")},
       "evil/owned",
       symlink,
       "outside/owned"},
      {"through a symlink deeper down",
       {Dir("d"), Symlink("d/evil", "@OUTSIDE@"), File("d/evil/sub/owned", "x")},
       "d/evil/sub/owned",
       symlink,
       "outside/sub"},
      {"a directory through a symlink",
       {Symlink("evil", "@OUTSIDE@"), Dir("evil/owned")},
       "evil/owned/",  // libarchive's writer ends a directory's name with "/"
       symlink,
       "outside/owned"},
      {"a whiteout through a symlink",
       {Symlink("evil", "@OUTSIDE@"), Whiteout("evil/.wh.owned")},
       "evil/.wh.owned",
       symlink,
       "outside/owned"},
      {"a symlink through a symlink",
       {Symlink("evil", "@OUTSIDE@"), Symlink("evil/owned", "/")},
       "evil/owned",
       symlink,
       "outside/owned"},
      {"a hardlink out of the root",
       {Hardlink("h", "../../etc/passwd")},
       "h",
       "hardlink target \"../../etc/passwd\" escapes the rootfs",
       "target/h"},
      {"a hardlink to outside the root through a symlink",
       {Symlink("evil", "@OUTSIDE@"), Hardlink("h", "evil/secret")},
       "h",
       symlink,
       "target/h"},
      {"a hardlink through a symlink",
       {File("f", "x"), Symlink("evil", "@OUTSIDE@"), Hardlink("evil/owned", "f")},
       "evil/owned",
       symlink,
       "outside/owned"},
  };
  for (Case& c : cases) {
    DYNAMIC_SECTION(c.what) {
      TempDir sandbox;
      std::string target = sandbox.Sub("target");
      std::string outside = sandbox.Sub("outside");
      REQUIRE(berth::WriteStringToFile(outside + "/secret", "secret").ok());
      for (TarEntry& e : c.entries) {
        if (e.symlink == "@OUTSIDE@") e.symlink = outside;
      }
      auto stats = Apply(sandbox, c.entries, target);
      INFO(stats.status());
      REQUIRE_FALSE(stats.ok());
      CHECK(stats.status().code() == absl::StatusCode::kInvalidArgument);
      CHECK(absl::StrContains(stats.status().message(),
                              absl::StrCat("layer entry \"", c.bad_entry, "\"")));
      CHECK(absl::StrContains(stats.status().message(), c.why));
      CHECK_FALSE(Exists(sandbox.path() + "/" + c.outside));
      CHECK_FALSE(Exists(outside + "/owned"));
      CHECK(Xattr(outside, "trusted.overlay.opaque") == "<absent>");
      CHECK(Read(outside + "/secret") == "secret");
      CHECK(Lstat(outside + "/secret").st_nlink == 1);
    }
  }
  SECTION("the error message") {
    TempDir sandbox;
    std::string target = sandbox.Sub("target");
    auto stats = Apply(sandbox, {File("../x", "x")}, target);
    REQUIRE_FALSE(stats.ok());
    CHECK(stats.status().message() == "layer entry \"../x\": path escapes the rootfs");
  }
  SECTION("opaque marker through a symlink") {
    TempDir sandbox;
    std::string target = sandbox.Sub("target");
    std::string outside = sandbox.Sub("outside");
    auto stats = Apply(sandbox, {Symlink("evil", outside), Whiteout("evil/.wh..wh..opq")}, target);
    INFO(stats.status());
    REQUIRE_FALSE(stats.ok());
    CHECK(absl::StrContains(stats.status().message(), "layer entry \"evil/.wh..wh..opq\""));
    CHECK(Xattr(outside, "trusted.overlay.opaque") == "<absent>");
  }
}

TEST_CASE("layer applier: symlinks may point anywhere, dot-dot inside the root is fine",
          "[unpack]") {
  REQUIRE_ROOT();
  TempDir sandbox;
  std::string target = sandbox.Sub("target");
  auto stats = Apply(sandbox,
                     {Symlink("abs", "/etc/passwd"), Symlink("rel", "../../../../etc"), Dir("a"),
                      File("a/../b", "b"), Hardlink("c", "a/../b")},
                     target);
  INFO(stats.status());
  REQUIRE(stats.ok());
  CHECK(std::filesystem::read_symlink(target + "/abs") == "/etc/passwd");
  CHECK(std::filesystem::read_symlink(target + "/rel") == "../../../../etc");
  CHECK(Read(target + "/b") == "b");
  CHECK(Lstat(target + "/c").st_ino == Lstat(target + "/b").st_ino);
}

TEST_CASE("layer applier: later entries replace earlier ones of another type", "[unpack]") {
  REQUIRE_ROOT();
  TempDir sandbox;
  std::string target = sandbox.Sub("target");
  TarEntry dir_again = Dir("keep", 0711);
  dir_again.uid = 42;
  auto stats = Apply(sandbox,
                     {
                         File("f2d", "file"),
                         Dir("f2d"),
                         File("f2d/inner", "in"),
                         Dir("d2f"),
                         File("d2f/child", "c"),
                         File("d2f", "now a file"),
                         Dir("d2l"),
                         Dir("d2l/sub"),
                         Symlink("d2l", "/nowhere"),
                         File("orig", "old"),
                         Hardlink("alias", "orig"),
                         File("orig", "new"),
                         Dir("keep"),
                         File("keep/child", "kept"),
                         dir_again,
                     },
                     target);
  INFO(stats.status());
  REQUIRE(stats.ok());
  CHECK(Read(target + "/f2d/inner") == "in");
  CHECK(Read(target + "/d2f") == "now a file");
  CHECK(S_ISLNK(Lstat(target + "/d2l").st_mode));
  // A new inode: the earlier hardlink keeps the old content.
  CHECK(Read(target + "/orig") == "new");
  CHECK(Read(target + "/alias") == "old");
  // A directory over a directory: metadata updated, children kept.
  CHECK(Read(target + "/keep/child") == "kept");
  CHECK((Lstat(target + "/keep").st_mode & 07777) == 0711);
  CHECK(Lstat(target + "/keep").st_uid == 42);
}

TEST_CASE("layer applier: truncated or corrupt layers fail", "[unpack]") {
  REQUIRE_ROOT();
  TempDir sandbox;
  std::string target = sandbox.Sub("target");
  std::string big(200000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * i + 17 * i) % 256);
  std::string tar = BuildTar({File("big", big), File("after", "after")});

  SECTION("truncated gzip") {
    std::string gz = Compress(tar, Compression::kGzip);
    auto stats = ApplyBlob(sandbox, gz.substr(0, gz.size() / 2), target);
    INFO(stats.status());
    REQUIRE_FALSE(stats.ok());
    CHECK(absl::StrContains(stats.status().message(), "truncated gzip input"));
    CHECK_FALSE(Exists(target + "/after"));
  }
  SECTION("gzip without its trailer") {
    std::string gz = Compress(tar, Compression::kGzip);
    auto stats = ApplyBlob(sandbox, gz.substr(0, gz.size() - 4), target);
    INFO(stats.status());
    REQUIRE_FALSE(stats.ok());
    CHECK(absl::StrContains(stats.status().message(), "truncated or corrupt"));
  }
  SECTION("truncated zstd") {
    std::string zst = Compress(tar, Compression::kZstd);
    auto stats = ApplyBlob(sandbox, zst.substr(0, zst.size() / 2), target);
    INFO(stats.status());
    REQUIRE_FALSE(stats.ok());
  }
  SECTION("truncated tar") {
    auto stats = ApplyBlob(sandbox, tar.substr(0, 100000), target);
    INFO(stats.status());
    REQUIRE_FALSE(stats.ok());
  }
  SECTION("not a tar") {
    auto stats = ApplyBlob(sandbox, std::string(5000, 'x'), target);
    INFO(stats.status());
    REQUIRE_FALSE(stats.ok());
  }
  SECTION("empty blob") {
    auto stats = ApplyBlob(sandbox, "", target);
    INFO(stats.status());
    REQUIRE_FALSE(stats.ok());
  }
  SECTION("a missing target directory") {
    auto stats = ApplyBlob(sandbox, tar, sandbox.path() + "/missing");
    REQUIRE_FALSE(stats.ok());
    CHECK(absl::StrContains(stats.status().message(), "missing"));
  }
}
