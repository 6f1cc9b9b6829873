#include "highlevel-runtime/unpack/layer_applier.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/digest.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace berth::runtimed {
namespace {

constexpr absl::string_view kWhiteoutPrefix = ".wh.";
// Docker's aufs bookkeeping (".wh..wh.plnk", ".wh..wh.aufs"): never part of the image.
constexpr absl::string_view kWhiteoutMetaPrefix = ".wh..wh.";
constexpr absl::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr absl::string_view kOverlayXattrPrefix = "trusted.overlay.";
constexpr char kOpaqueXattr[] = "trusted.overlay.opaque";
constexpr size_t kBlockSize = 128 * 1024;
// libarchive says nothing when, e.g., a gzip stream ends before its trailer.
constexpr char kCorrupt[] = "the compressed stream is truncated or corrupt";

using Components = std::vector<std::string>;
using Times = std::array<struct timespec, 2>;

struct ArchiveReadFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveReadFree>;

std::string Quoted(absl::string_view s) { return absl::StrCat("\"", absl::CHexEscape(s), "\""); }

absl::Status EntryInvalid(absl::string_view entry, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("layer entry ", Quoted(entry), ": ", why));
}

absl::Status EntryErrno(absl::string_view entry, absl::string_view what) {
  return Annotate(LastErrnoError(what), absl::StrCat("layer entry ", Quoted(entry)));
}

absl::Status StreamError(struct archive* a, absl::string_view fallback) {
  const char* msg = archive_error_string(a);
  return absl::InvalidArgumentError(
      absl::StrCat("reading layer: ", msg != nullptr ? msg : std::string(fallback)));
}

// Lexically cleans a tar path into components below the root: a leading "/"
// or "./" is dropped (as docker does), "." and empty components are skipped,
// ".." removes the previous component. nullopt when ".." climbs above the root.
std::optional<Components> CleanPath(absl::string_view name) {
  Components out;
  for (absl::string_view c : absl::StrSplit(name, '/')) {
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (out.empty()) return std::nullopt;
      out.pop_back();
      continue;
    }
    out.emplace_back(c);
  }
  return out;
}

std::string Join(const Components& comps, size_t n) {
  return absl::StrJoin(comps.begin(), comps.begin() + static_cast<ptrdiff_t>(n), "/");
}

// A path naming parent_fd/name through /proc, for the calls that have no *at
// form (lsetxattr): the directory is pinned by its fd, and the last component
// is not followed.
std::string ProcPath(int parent_fd, absl::string_view name) {
  return absl::StrCat("/proc/self/fd/", parent_fd, "/", name);
}

// Removes whatever is at dirfd/name, a directory recursively; absent is fine.
// Never follows symlinks: a symlink is unlinked, not its target.
absl::Status RemoveAllAt(int dirfd, const std::string& name) {
  if (::unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT) return absl::OkStatus();
  if (errno != EISDIR) return LastErrnoError(absl::StrCat("remove ", Quoted(name)));
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return LastErrnoError(absl::StrCat("open ", Quoted(name)));
  UniqueFd dir_fd(fd);
  std::vector<std::string> children;
  {
    // fdopendir takes over the fd it is given: hand it a duplicate.
    int dup_fd = ::fcntl(dir_fd.Get(), F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0) return LastErrnoError("dup");
    DIR* dir = ::fdopendir(dup_fd);
    if (dir == nullptr) {
      absl::Status st = LastErrnoError(absl::StrCat("read directory ", Quoted(name)));
      ::close(dup_fd);
      return st;
    }
    std::unique_ptr<DIR, int (*)(DIR*)> closer(dir, &::closedir);
    errno = 0;
    while (struct dirent* de = ::readdir(dir)) {
      absl::string_view child = de->d_name;
      if (child != "." && child != "..") children.emplace_back(child);
      errno = 0;
    }
    if (errno != 0) return LastErrnoError(absl::StrCat("read directory ", Quoted(name)));
  }
  for (const std::string& child : children) {
    BERTH_RETURN_IF_ERROR(RemoveAllAt(dir_fd.Get(), child));
  }
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return LastErrnoError(absl::StrCat("remove directory ", Quoted(name)));
  }
  return absl::OkStatus();
}

absl::Status WriteAllAt(int fd, const char* data, size_t size, int64_t offset) {
  while (size > 0) {
    ssize_t n = ::pwrite(fd, data, size, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return LastErrnoError("write");
    }
    data += n;
    size -= static_cast<size_t>(n);
    offset += n;
  }
  return absl::OkStatus();
}

// Applies entries one at a time beneath the target directory. Every file
// system call is relative to a directory fd opened beneath the target without
// following any symlink, so nothing in the layer can redirect a write outside.
class Applier {
 public:
  explicit Applier(UniqueFd root) : root_(std::move(root)) {}

  absl::Status Apply(struct archive* tar, struct archive_entry* entry);
  // Sets the directories' times, which creating their children changed.
  absl::Status Finish();

 private:
  // Opens the directory comps[0..n) beneath the root for the given entry,
  // creating missing directories (0755) when create is set. Refuses, naming
  // the entry, a component that is a symlink or not a directory.
  absl::StatusOr<UniqueFd> OpenDir(const Components& comps, size_t n, bool create,
                                   absl::string_view entry);
  // OpenDir(create) for the parent of an entry, cached: tar streams list a
  // directory's entries together. The cache stays valid because an entry
  // never replaces its own parent (only itself and what lies below it), and
  // an entry that replaces an ancestor of the cached directory has another
  // parent, which replaces the cache first.
  absl::StatusOr<int> ParentDir(const Components& comps, size_t n, absl::string_view entry);

  absl::Status ApplyWhiteout(struct archive_entry* entry, absl::string_view name,
                             const Components& comps);
  absl::Status ApplyOpaque(absl::string_view name, const Components& comps);
  absl::Status ApplyHardlink(absl::string_view name, const Components& comps, int parent,
                             const char* link);
  absl::Status WriteFile(struct archive* tar, struct archive_entry* entry, absl::string_view name,
                         int parent, const std::string& base, const std::string& key);
  // Owner, xattrs, mode, then times (a directory's are deferred to Finish):
  // chown clears setuid bits and file capabilities, so it comes first.
  // fd is the node's own fd when there is one (regular files, directories),
  // else -1 and the node is parent/base, never followed.
  absl::Status ApplyMetadata(struct archive_entry* entry, absl::string_view name, int parent,
                             const std::string& base, int fd, const std::string& key);
  // Removes parent/base (whatever it is) before something of another kind
  // takes its place, forgetting deferred times below it.
  absl::Status Replace(absl::string_view name, int parent, const std::string& base,
                       const std::string& key);
  void ForgetTimesUnder(const std::string& key);

  UniqueFd root_;
  std::string cached_key_;
  UniqueFd cached_fd_;
  std::map<std::string, Times> dir_times_;  // by cleaned path; "" is the root
};

absl::StatusOr<UniqueFd> Applier::OpenDir(const Components& comps, size_t n, bool create,
                                          absl::string_view entry) {
  // Fast path: one openat2 beneath the root that fails on any symlink. The
  // components are already clean (no "..") so RESOLVE_BENEATH never trips;
  // it is a second fence.
  std::string rel = n == 0 ? std::string(".") : Join(comps, n);
  struct open_how how = {};
  how.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, root_.Get(), rel.c_str(), &how, sizeof(how));
  if (fd >= 0) return UniqueFd(static_cast<int>(fd));
  int err = errno;
  if (err != ENOENT && err != ELOOP && err != ENOTDIR && err != ENOSYS && err != EXDEV) {
    return Annotate(ErrnoError(err, absl::StrCat("open directory ", Quoted(rel))),
                    absl::StrCat("layer entry ", Quoted(entry)));
  }
  // Slow path, one component at a time: creates what is missing and names
  // the component at fault. O_NOFOLLOW makes a symlink fail with ELOOP.
  int dup_fd = ::fcntl(root_.Get(), F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return LastErrnoError("dup");
  UniqueFd cur(dup_fd);
  for (size_t i = 0; i < n; ++i) {
    const char* c = comps[i].c_str();
    int next = ::openat(cur.Get(), c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0 && errno == ENOENT && create) {
      if (::mkdirat(cur.Get(), c, 0755) != 0 && errno != EEXIST) {
        return EntryErrno(entry, absl::StrCat("create directory ", Quoted(Join(comps, i + 1))));
      }
      next = ::openat(cur.Get(), c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      // Whatever the umask: an implicit directory is drwxr-xr-x, as docker makes it.
      if (next >= 0 && ::fchmod(next, 0755) != 0) {
        absl::Status st = EntryErrno(entry, absl::StrCat("chmod ", Quoted(Join(comps, i + 1))));
        ::close(next);
        return st;
      }
    }
    if (next < 0) {
      const int walk_err = errno;
      std::string so_far = Quoted(Join(comps, i + 1));
      if (walk_err == ELOOP || walk_err == ENOTDIR) {
        // O_DIRECTORY|O_NOFOLLOW fails on a symlink with either errno.
        struct stat st;
        if (walk_err == ELOOP ||
            (::fstatat(cur.Get(), c, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))) {
          return EntryInvalid(entry, absl::StrCat("parent ", so_far,
                                                  " is a symlink: refusing to write through it"));
        }
        return EntryInvalid(entry, absl::StrCat("parent ", so_far, " is not a directory"));
      }
      return Annotate(ErrnoError(walk_err, absl::StrCat("open directory ", so_far)),
                      absl::StrCat("layer entry ", Quoted(entry)));
    }
    cur.Reset(next);
  }
  return cur;
}

absl::StatusOr<int> Applier::ParentDir(const Components& comps, size_t n, absl::string_view entry) {
  std::string key = Join(comps, n);
  if (cached_fd_.Valid() && key == cached_key_) return cached_fd_.Get();
  cached_fd_.Reset();
  BERTH_ASSIGN_OR_RETURN(cached_fd_, OpenDir(comps, n, /*create=*/true, entry));
  cached_key_ = std::move(key);
  return cached_fd_.Get();
}

void Applier::ForgetTimesUnder(const std::string& key) {
  dir_times_.erase(key);
  std::string prefix = key + "/";
  auto it = dir_times_.lower_bound(prefix);
  while (it != dir_times_.end() && absl::StartsWith(it->first, prefix)) it = dir_times_.erase(it);
}

absl::Status Applier::Replace(absl::string_view name, int parent, const std::string& base,
                              const std::string& key) {
  ForgetTimesUnder(key);
  absl::Status st = RemoveAllAt(parent, base);
  if (!st.ok()) return Annotate(st, absl::StrCat("layer entry ", Quoted(name)));
  return absl::OkStatus();
}

absl::Status Applier::ApplyMetadata(struct archive_entry* entry, absl::string_view name, int parent,
                                    const std::string& base, int fd, const std::string& key) {
  const mode_t type = archive_entry_filetype(entry);
  const bool is_symlink = type == AE_IFLNK;
  const uid_t uid = static_cast<uid_t>(archive_entry_uid(entry));
  const gid_t gid = static_cast<gid_t>(archive_entry_gid(entry));
  int rc = fd >= 0 ? ::fchown(fd, uid, gid)
                   : ::fchownat(parent, base.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW);
  if (rc != 0) return EntryErrno(name, absl::StrCat("chown to ", uid, ":", gid));

  archive_entry_xattr_reset(entry);
  const char* xname = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(entry, &xname, &value, &size) == ARCHIVE_OK) {
    if (xname == nullptr || absl::StartsWith(xname, kOverlayXattrPrefix)) continue;
    rc = fd >= 0 ? ::fsetxattr(fd, xname, value, size, 0)
                 : ::lsetxattr(ProcPath(parent, base).c_str(), xname, value, size, 0);
    // A file system without that namespace loses the attribute, as docker does.
    if (rc != 0 && errno != ENOTSUP) {
      return EntryErrno(name, absl::StrCat("set xattr ", Quoted(xname)));
    }
  }

  if (!is_symlink) {  // a symlink's mode means nothing and cannot be changed
    const mode_t perm = archive_entry_perm(entry) & 07777;
    rc = fd >= 0 ? ::fchmod(fd, perm) : ::fchmodat(parent, base.c_str(), perm, 0);
    if (rc != 0) return EntryErrno(name, absl::StrFormat("chmod to %04o", perm));
  }

  if (!archive_entry_mtime_is_set(entry)) return absl::OkStatus();
  Times times;
  times[1] = {archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)};
  times[0] = archive_entry_atime_is_set(entry)
                 ? timespec{archive_entry_atime(entry), archive_entry_atime_nsec(entry)}
                 : times[1];
  if (type == AE_IFDIR) {
    dir_times_[key] = times;
    return absl::OkStatus();
  }
  rc = fd >= 0 ? ::futimens(fd, times.data())
               : ::utimensat(parent, base.c_str(), times.data(), AT_SYMLINK_NOFOLLOW);
  if (rc != 0) return EntryErrno(name, "set times");
  return absl::OkStatus();
}

absl::Status Applier::ApplyWhiteout(struct archive_entry* entry, absl::string_view name,
                                    const Components& comps) {
  const std::string hidden = comps.back().substr(kWhiteoutPrefix.size());
  if (hidden.empty() || hidden == "." || hidden == "..") {
    return EntryInvalid(name, "not a valid whiteout (no file name after \".wh.\")");
  }
  BERTH_ASSIGN_OR_RETURN(int parent, ParentDir(comps, comps.size() - 1, name));
  Components hidden_comps(comps.begin(), comps.end() - 1);
  hidden_comps.push_back(hidden);
  BERTH_RETURN_IF_ERROR(Replace(name, parent, hidden, Join(hidden_comps, hidden_comps.size())));
  // Overlayfs' whiteout: a character device 0/0 with the hidden file's name.
  if (::mknodat(parent, hidden.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) {
    return EntryErrno(name, absl::StrCat("create whiteout ", Quoted(hidden)));
  }
  if (::fchownat(parent, hidden.c_str(), static_cast<uid_t>(archive_entry_uid(entry)),
                 static_cast<gid_t>(archive_entry_gid(entry)), AT_SYMLINK_NOFOLLOW) != 0) {
    return EntryErrno(name, "chown whiteout");
  }
  return absl::OkStatus();
}

absl::Status Applier::ApplyOpaque(absl::string_view name, const Components& comps) {
  // The marked directory itself (created if the layer did not list it).
  BERTH_ASSIGN_OR_RETURN(int dir, ParentDir(comps, comps.size() - 1, name));
  if (::fsetxattr(dir, kOpaqueXattr, "y", 1, 0) != 0) {
    return EntryErrno(name, absl::StrCat("set ", kOpaqueXattr));
  }
  return absl::OkStatus();
}

absl::Status Applier::ApplyHardlink(absl::string_view name, const Components& comps, int parent,
                                    const char* link) {
  std::optional<Components> target = CleanPath(link);
  if (!target.has_value()) {
    return EntryInvalid(name,
                        absl::StrCat("hardlink target ", Quoted(link), " escapes the rootfs"));
  }
  if (target->empty()) {
    return EntryInvalid(name, absl::StrCat("hardlink target ", Quoted(link), " is the rootfs"));
  }
  if (*target == comps) return EntryInvalid(name, "hardlink to itself");
  // Resolved like every other path: beneath the root, through no symlink.
  BERTH_ASSIGN_OR_RETURN(UniqueFd src_dir,
                         OpenDir(*target, target->size() - 1, /*create=*/false, name));
  const std::string& src_base = target->back();
  struct stat st;
  if (::fstatat(src_dir.Get(), src_base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) {
      return EntryInvalid(
          name, absl::StrCat("hardlink target ", Quoted(link), " is not in the layer before it"));
    }
    return EntryErrno(name, absl::StrCat("stat hardlink target ", Quoted(link)));
  }
  if (S_ISDIR(st.st_mode)) {
    return EntryInvalid(name, absl::StrCat("hardlink target ", Quoted(link), " is a directory"));
  }
  const std::string& base = comps.back();
  BERTH_RETURN_IF_ERROR(Replace(name, parent, base, Join(comps, comps.size())));
  // No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself.
  if (::linkat(src_dir.Get(), src_base.c_str(), parent, base.c_str(), 0) != 0) {
    return EntryErrno(name, absl::StrCat("hardlink to ", Quoted(link)));
  }
  return absl::OkStatus();
}

absl::Status Applier::WriteFile(struct archive* tar, struct archive_entry* entry,
                                absl::string_view name, int parent, const std::string& base,
                                const std::string& key) {
  // Always a new inode: truncating in place would rewrite the files that an
  // earlier entry hardlinked to the old one.
  BERTH_RETURN_IF_ERROR(Replace(name, parent, base, key));
  int raw_fd =
      ::openat(parent, base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (raw_fd < 0) return EntryErrno(name, "create file");
  UniqueFd fd(raw_fd);
  for (;;) {
    const void* buf = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int r = archive_read_data_block(tar, &buf, &size, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      return Annotate(StreamError(tar, "cannot read the file's data"),
                      absl::StrCat("layer entry ", Quoted(name)));
    }
    absl::Status st = WriteAllAt(fd.Get(), static_cast<const char*>(buf), size, offset);
    if (!st.ok()) return Annotate(st, absl::StrCat("layer entry ", Quoted(name)));
  }
  // Sparse files may end in a hole the data blocks do not reach.
  if (archive_entry_size_is_set(entry) && ::ftruncate(fd.Get(), archive_entry_size(entry)) != 0) {
    return EntryErrno(name, "set file size");
  }
  return ApplyMetadata(entry, name, parent, base, fd.Get(), key);
}

absl::Status Applier::Apply(struct archive* tar, struct archive_entry* entry) {
  const char* raw_name = archive_entry_pathname(entry);
  if (raw_name == nullptr || *raw_name == '\0') {
    return absl::InvalidArgumentError("layer entry without a path name");
  }
  const std::string name = raw_name;
  std::optional<Components> cleaned = CleanPath(name);
  if (!cleaned.has_value()) return EntryInvalid(name, "path escapes the rootfs");
  const Components& comps = *cleaned;
  const std::string key = Join(comps, comps.size());

  // Docker's aufs metadata, and anything beneath it, is not image content.
  for (size_t i = 0; i < comps.size(); ++i) {
    if (absl::StartsWith(comps[i], kWhiteoutMetaPrefix) &&
        !(i + 1 == comps.size() && comps[i] == kOpaqueMarker)) {
      return absl::OkStatus();
    }
  }

  const char* link = archive_entry_hardlink(entry);
  const mode_t type = archive_entry_filetype(entry);
  if (comps.empty()) {  // "/" or "./": the root directory's own metadata
    if (link != nullptr || type != AE_IFDIR) {
      return EntryInvalid(name, "the root of a layer can only be a directory");
    }
    return ApplyMetadata(entry, name, root_.Get(), ".", root_.Get(), key);
  }

  const std::string& base = comps.back();
  if (base == kOpaqueMarker) return ApplyOpaque(name, comps);
  if (absl::StartsWith(base, kWhiteoutPrefix)) return ApplyWhiteout(entry, name, comps);

  BERTH_ASSIGN_OR_RETURN(int parent, ParentDir(comps, comps.size() - 1, name));
  if (link != nullptr) return ApplyHardlink(name, comps, parent, link);

  switch (type) {
    case AE_IFDIR: {
      // A directory over a directory only updates its metadata (the layer
      // lists a directory again, or after an opaque marker created it).
      struct stat st;
      bool is_dir =
          ::fstatat(parent, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
      if (!is_dir) {
        BERTH_RETURN_IF_ERROR(Replace(name, parent, base, key));
        if (::mkdirat(parent, base.c_str(), 0700) != 0) {
          return EntryErrno(name, "create directory");
        }
      }
      int raw_fd = ::openat(parent, base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (raw_fd < 0) return EntryErrno(name, "open directory");
      UniqueFd fd(raw_fd);
      return ApplyMetadata(entry, name, parent, base, fd.Get(), key);
    }
    case AE_IFREG:
      return WriteFile(tar, entry, name, parent, base, key);
    case AE_IFLNK: {
      const char* to = archive_entry_symlink(entry);
      if (to == nullptr) return EntryInvalid(name, "symlink without a target");
      BERTH_RETURN_IF_ERROR(Replace(name, parent, base, key));
      // A symlink may point anywhere: it is only ever created, never followed here.
      if (::symlinkat(to, parent, base.c_str()) != 0) return EntryErrno(name, "create symlink");
      return ApplyMetadata(entry, name, parent, base, -1, key);
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO: {
      BERTH_RETURN_IF_ERROR(Replace(name, parent, base, key));
      dev_t dev = type == AE_IFIFO
                      ? 0
                      : makedev(archive_entry_rdevmajor(entry), archive_entry_rdevminor(entry));
      if (::mknodat(parent, base.c_str(), type | 0600, dev) != 0) {
        return EntryErrno(name, "create device node");
      }
      return ApplyMetadata(entry, name, parent, base, -1, key);
    }
    default:
      return EntryInvalid(name, absl::StrFormat("unsupported file type %06o", type));
  }
}

absl::Status Applier::Finish() {
  for (const auto& [key, times] : dir_times_) {
    Components comps;
    if (!key.empty()) comps = absl::StrSplit(key, '/');
    absl::StatusOr<UniqueFd> dir = OpenDir(comps, comps.size(), /*create=*/false, key);
    // Replaced by a whiteout, a file or a symlink later in the layer: skip it.
    if (!dir.ok()) {
      if (absl::IsInvalidArgument(dir.status()) || absl::IsNotFound(dir.status())) continue;
      return dir.status();
    }
    if (::futimens(dir->Get(), times.data()) != 0) return EntryErrno(key, "set times");
  }
  return absl::OkStatus();
}

// The decompressed layer, feeding the tar reader through ReadDecompressed.
//
// Why a pipeline of two archive readers: diff_id is the SHA-256 of the
// *uncompressed* tar stream, but a tar reader only hands out entry contents,
// never the bytes of headers and padding. So a first reader (format "raw",
// with the decompression filters) turns the blob into the plain tar stream,
// and the tar reader reads that stream through a callback that hashes every
// byte on its way in. One pass over the blob, one decompression, no
// temporary file, and no need for the fd to be seekable; what the tar reader
// leaves after the end-of-archive blocks is drained into the hash at the end.
struct Decompressed {
  struct archive* raw = nullptr;
  Sha256 hash;
  int64_t bytes = 0;
  std::vector<char> buf = std::vector<char>(kBlockSize);
};

la_ssize_t ReadDecompressed(struct archive* tar, void* opaque, const void** out) {
  auto* d = static_cast<Decompressed*>(opaque);
  la_ssize_t n = archive_read_data(d->raw, d->buf.data(), d->buf.size());
  if (n < 0) {
    const char* msg = archive_error_string(d->raw);
    archive_set_error(tar, archive_errno(d->raw), "%s", msg != nullptr ? msg : kCorrupt);
    return -1;
  }
  d->hash.Update(absl::string_view(d->buf.data(), static_cast<size_t>(n)));
  d->bytes += n;
  *out = d->buf.data();
  return n;
}

}  // namespace

absl::StatusOr<ApplyStats> ApplyLayer(int layer_fd, const std::string& target) {
  int root_fd = ::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) return LastErrnoError(absl::StrCat("open layer target ", target));
  Applier applier{UniqueFd(root_fd)};

  Decompressed d;
  ArchivePtr raw(archive_read_new());
  if (raw == nullptr) return absl::ResourceExhaustedError("archive_read_new failed");
  // The compressions OCI and docker layers use, all decoded in process;
  // archive_read_support_filter_all would also run external programs
  // (lrzip, lzop, grzip) on whatever a blob's first bytes claim.
  archive_read_support_filter_gzip(raw.get());
  archive_read_support_filter_zstd(raw.get());
  archive_read_support_filter_xz(raw.get());
  archive_read_support_filter_bzip2(raw.get());
  archive_read_support_format_raw(raw.get());
  if (archive_read_open_fd(raw.get(), layer_fd, kBlockSize) != ARCHIVE_OK) {
    return StreamError(raw.get(), "cannot open the layer");
  }
  struct archive_entry* raw_entry = nullptr;
  if (archive_read_next_header(raw.get(), &raw_entry) != ARCHIVE_OK) {
    return StreamError(raw.get(), "empty or unreadable layer");
  }
  d.raw = raw.get();

  ArchivePtr tar(archive_read_new());
  if (tar == nullptr) return absl::ResourceExhaustedError("archive_read_new failed");
  archive_read_support_format_tar(tar.get());  // ustar, pax and GNU tar
  if (archive_read_open(tar.get(), &d, nullptr, &ReadDecompressed, nullptr) != ARCHIVE_OK) {
    return StreamError(tar.get(), "not a tar stream");
  }

  ApplyStats stats;
  for (;;) {
    struct archive_entry* entry = nullptr;
    int r = archive_read_next_header(tar.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    // WARN: e.g. a UTF-8 name the C locale cannot represent; the raw bytes
    // are still there, which is what the file system wants.
    if (r < ARCHIVE_WARN) return StreamError(tar.get(), "cannot read the next entry");
    ++stats.entries;
    BERTH_RETURN_IF_ERROR(applier.Apply(tar.get(), entry));
  }
  for (;;) {
    la_ssize_t n = archive_read_data(raw.get(), d.buf.data(), d.buf.size());
    if (n == 0) break;
    if (n < 0) return StreamError(raw.get(), kCorrupt);
    d.hash.Update(absl::string_view(d.buf.data(), static_cast<size_t>(n)));
    d.bytes += n;
  }
  BERTH_RETURN_IF_ERROR(applier.Finish());
  stats.bytes = d.bytes;
  stats.diff_id = d.hash.Finish().ToString();
  return stats;
}

}  // namespace berth::runtimed
