#include "highlevel-runtime/snapshots/snapshotter.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/status.h"

namespace berth::runtimed {
namespace {

absl::StatusOr<std::optional<SnapshotInfo>> Find(MetadataDb& db, const std::string& ns,
                                                 const std::string& key) {
  BERTH_ASSIGN_OR_RETURN(Statement get, db.Prepare("SELECT key, parent, kind, id FROM snapshots "
                                                   "WHERE namespace = ?1 AND key = ?2"));
  get.Bind(1, ns).Bind(2, key);
  BERTH_ASSIGN_OR_RETURN(bool row, get.Step());
  if (!row) return std::optional<SnapshotInfo>();
  return std::optional<SnapshotInfo>(
      SnapshotInfo{get.Text(0), get.Text(1), get.Text(2), get.Int(3)});
}

absl::Status NotFound(const std::string& key) {
  return absl::NotFoundError(absl::StrCat("snapshot \"", key, "\": not found"));
}

// Adds the inode of PATH, and of everything under it when it is a directory,
// to usage, each inode once; symlinks are not followed. Files that vanish
// during the walk (the snapshot is in use) are skipped.
absl::Status AddUsage(const std::string& path, std::set<std::pair<dev_t, ino_t>>& seen,
                      SnapshotUsage& usage) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return LastErrnoError(absl::StrCat("stat ", path));
  }
  if (!seen.emplace(st.st_dev, st.st_ino).second) return absl::OkStatus();  // a hard link
  usage.size += static_cast<int64_t>(st.st_blocks) * 512;
  ++usage.inodes;
  if (!S_ISDIR(st.st_mode)) return absl::OkStatus();
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) {
    if (errno == ENOENT) return absl::OkStatus();
    return LastErrnoError(absl::StrCat("open directory ", path));
  }
  absl::Status status;
  for (;;) {
    errno = 0;
    struct dirent* e = ::readdir(dir);
    if (e == nullptr) {
      if (errno != 0) status = LastErrnoError(absl::StrCat("read directory ", path));
      break;
    }
    absl::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    status = AddUsage(absl::StrCat(path, "/", name), seen, usage);
    if (!status.ok()) break;
  }
  ::closedir(dir);
  return status;
}

}  // namespace

std::string Snapshotter::FsDir(int64_t id) const { return absl::StrCat(root_, "/", id, "/fs"); }

absl::StatusOr<std::vector<Mount>> Snapshotter::MountsFor(const std::string& ns,
                                                          const SnapshotInfo& info) {
  // The committed parents' dirs, nearest first: overlay's lowerdir order.
  std::vector<std::string> lowers;
  for (std::string parent = info.parent; !parent.empty();) {
    BERTH_ASSIGN_OR_RETURN(auto p, Find(db_, ns, parent));
    if (!p)
      return absl::DataLossError(
          absl::StrCat("snapshot \"", info.key, "\": parent \"", parent, "\" is missing"));
    lowers.push_back(FsDir(p->id));
    parent = p->parent;
  }
  if (info.kind == "view") {
    if (lowers.empty()) return std::vector<Mount>{};  // a view of nothing: an empty rootfs
    if (lowers.size() == 1) return std::vector<Mount>{{"bind", lowers[0], {"ro", "rbind"}}};
    return std::vector<Mount>{
        {"overlay", "overlay", {absl::StrCat("lowerdir=", absl::StrJoin(lowers, ":")), "ro"}}};
  }
  if (lowers.empty()) return std::vector<Mount>{{"bind", FsDir(info.id), {"rw", "rbind"}}};
  return std::vector<Mount>{{"overlay",
                             "overlay",
                             {"index=off", absl::StrCat("workdir=", root_, "/", info.id, "/work"),
                              absl::StrCat("upperdir=", FsDir(info.id)),
                              absl::StrCat("lowerdir=", absl::StrJoin(lowers, ":"))}}};
}

absl::StatusOr<std::vector<Mount>> Snapshotter::CreateActive(const std::string& ns,
                                                             const std::string& key,
                                                             const std::string& parent,
                                                             const std::string& kind) {
  if (key.empty()) return absl::InvalidArgumentError("snapshot key is empty");
  SnapshotInfo info{key, parent, kind, 0};
  absl::Status created = db_.Transaction([&]() -> absl::Status {
    BERTH_ASSIGN_OR_RETURN(auto existing, Find(db_, ns, key));
    if (existing) return absl::AlreadyExistsError(absl::StrCat("snapshot \"", key, "\": exists"));
    if (!parent.empty()) {
      BERTH_ASSIGN_OR_RETURN(auto p, Find(db_, ns, parent));
      if (!p || p->kind != "committed") {
        return absl::NotFoundError(
            absl::StrCat("parent snapshot \"", parent, "\": no such committed snapshot"));
      }
    }
    BERTH_ASSIGN_OR_RETURN(Statement next, db_.Prepare("SELECT next FROM snapshot_ids"));
    BERTH_ASSIGN_OR_RETURN(bool row, next.Step());
    if (!row) return absl::DataLossError("snapshot id counter missing");
    info.id = next.Int(0);
    BERTH_RETURN_IF_ERROR(db_.Exec("UPDATE snapshot_ids SET next = next + 1"));
    // The directories first: a row never names a directory that is not there.
    std::error_code ec;
    std::filesystem::create_directories(FsDir(info.id), ec);
    if (!ec && kind != "view") {
      std::filesystem::create_directories(absl::StrCat(root_, "/", info.id, "/work"), ec);
    }
    if (ec) return ErrnoError(ec.value(), absl::StrCat("create snapshot dir ", FsDir(info.id)));
    BERTH_ASSIGN_OR_RETURN(Statement put,
                           db_.Prepare("INSERT INTO snapshots (namespace, key, id, parent, kind, "
                                       "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    put.Bind(1, ns).Bind(2, key).Bind(3, info.id).Bind(4, parent).Bind(5, kind);
    put.Bind(6, absl::ToUnixNanos(absl::Now()));
    return put.Run();
  });
  if (!created.ok()) {
    std::error_code ec;
    if (info.id > 0) std::filesystem::remove_all(absl::StrCat(root_, "/", info.id), ec);
    return created;
  }
  return MountsFor(ns, info);
}

absl::StatusOr<std::vector<Mount>> Snapshotter::Prepare(const std::string& ns,
                                                        const std::string& key,
                                                        const std::string& parent) {
  return CreateActive(ns, key, parent, "active");
}

absl::StatusOr<std::vector<Mount>> Snapshotter::View(const std::string& ns, const std::string& key,
                                                     const std::string& parent) {
  return CreateActive(ns, key, parent, "view");
}

absl::Status Snapshotter::Commit(const std::string& ns, const std::string& name,
                                 const std::string& key) {
  int64_t id = 0;
  BERTH_RETURN_IF_ERROR(db_.Transaction([&]() -> absl::Status {
    BERTH_ASSIGN_OR_RETURN(auto active, Find(db_, ns, key));
    if (!active) return NotFound(key);
    if (active->kind != "active") {
      return absl::FailedPreconditionError(
          absl::StrCat("snapshot \"", key, "\" is ", active->kind, ", not active"));
    }
    BERTH_ASSIGN_OR_RETURN(auto taken, Find(db_, ns, name));
    if (taken) return absl::AlreadyExistsError(absl::StrCat("snapshot \"", name, "\": exists"));
    BERTH_ASSIGN_OR_RETURN(Statement update,
                           db_.Prepare("UPDATE snapshots SET key = ?3, kind = 'committed' "
                                       "WHERE namespace = ?1 AND key = ?2"));
    update.Bind(1, ns).Bind(2, key).Bind(3, name);
    id = active->id;
    return update.Run();
  }));
  std::error_code ec;
  std::filesystem::remove_all(absl::StrCat(root_, "/", id, "/work"), ec);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Mount>> Snapshotter::Mounts(const std::string& ns,
                                                       const std::string& key) {
  BERTH_ASSIGN_OR_RETURN(SnapshotInfo info, Stat(ns, key));
  if (info.kind == "committed") {
    return absl::FailedPreconditionError(
        absl::StrCat("snapshot \"", key, "\" is committed: prepare or view one on top of it"));
  }
  return MountsFor(ns, info);
}

absl::Status Snapshotter::Remove(const std::string& ns, const std::string& key) {
  int64_t id = 0;
  BERTH_RETURN_IF_ERROR(db_.Transaction([&]() -> absl::Status {
    BERTH_ASSIGN_OR_RETURN(auto info, Find(db_, ns, key));
    if (!info) return NotFound(key);
    BERTH_ASSIGN_OR_RETURN(Statement children,
                           db_.Prepare("SELECT count(*) FROM snapshots WHERE namespace = ?1 AND "
                                       "parent = ?2"));
    children.Bind(1, ns).Bind(2, key);
    BERTH_ASSIGN_OR_RETURN(bool row, children.Step());
    if (row && children.Int(0) > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("snapshot \"", key, "\" is the parent of ", children.Int(0), " others"));
    }
    BERTH_ASSIGN_OR_RETURN(Statement del,
                           db_.Prepare("DELETE FROM snapshots WHERE namespace = ?1 AND key = ?2"));
    del.Bind(1, ns).Bind(2, key);
    id = info->id;
    return del.Run();
  }));
  std::error_code ec;
  std::filesystem::remove_all(absl::StrCat(root_, "/", id), ec);
  if (ec) return ErrnoError(ec.value(), absl::StrCat("remove snapshot dir ", root_, "/", id));
  return absl::OkStatus();
}

absl::StatusOr<SnapshotInfo> Snapshotter::Stat(const std::string& ns, const std::string& key) {
  BERTH_ASSIGN_OR_RETURN(auto info, Find(db_, ns, key));
  if (!info) return NotFound(key);
  return *info;
}

absl::StatusOr<std::vector<SnapshotInfo>> Snapshotter::List(const std::string& ns) {
  BERTH_ASSIGN_OR_RETURN(Statement list,
                         db_.Prepare("SELECT key, parent, kind, id FROM snapshots WHERE "
                                     "namespace = ?1 ORDER BY id"));
  list.Bind(1, ns);
  std::vector<SnapshotInfo> out;
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, list.Step());
    if (!row) return out;
    out.push_back({list.Text(0), list.Text(1), list.Text(2), list.Int(3)});
  }
}

absl::StatusOr<SnapshotUsage> Snapshotter::Usage(const std::string& ns, const std::string& key) {
  BERTH_ASSIGN_OR_RETURN(SnapshotInfo info, Stat(ns, key));
  SnapshotUsage usage;
  std::set<std::pair<dev_t, ino_t>> seen;
  BERTH_RETURN_IF_ERROR(AddUsage(FsDir(info.id), seen, usage));
  return usage;
}

}  // namespace berth::runtimed
