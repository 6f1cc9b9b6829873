#include "lowlevel-runtime/cgroups/cgroup_layout.h"

#include <algorithm>
#include <array>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/fd_util.h"
#include "common/status.h"

namespace berth::oci {
namespace {

constexpr absl::string_view kCgroupRoot = "/sys/fs/cgroup";

// v1 controllers the kernel knows; mount options that are not one of these (rw,
// relatime, xattr, noprefix, clone_children, release_agent=...) are skipped.
constexpr std::array<absl::string_view, 14> kV1Controllers = {
    "cpu",        "cpuacct",  "cpuset", "memory",  "devices", "freezer", "net_cls",
    "perf_event", "net_prio", "blkio",  "hugetlb", "pids",    "rdma",    "misc"};

bool IsV1Controller(absl::string_view name) {
  return std::find(kV1Controllers.begin(), kV1Controllers.end(), name) != kV1Controllers.end();
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string UnescapeMountinfo(absl::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && field[i + 1] >= '0' && field[i + 1] <= '3' &&
        field[i + 2] >= '0' && field[i + 2] <= '7' && field[i + 3] >= '0' && field[i + 3] <= '7') {
      out.push_back(static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                                      (field[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(field[i]);
    }
  }
  return out;
}

std::string SortedKey(std::vector<std::string> controllers) {
  std::sort(controllers.begin(), controllers.end());
  return absl::StrJoin(controllers, ",");
}

}  // namespace

absl::string_view CgroupModeName(CgroupMode mode) {
  switch (mode) {
    case CgroupMode::kV1:
      return "v1";
    case CgroupMode::kV2:
      return "v2";
    case CgroupMode::kHybrid:
      return "hybrid";
  }
  return "unknown";
}

bool CgroupHierarchy::Has(absl::string_view controller) const {
  return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

std::string CgroupHierarchy::Name() const {
  return controllers.empty() ? std::string("unified") : absl::StrJoin(controllers, ",");
}

const CgroupHierarchy* CgroupLayout::FindV1(absl::string_view controller) const {
  for (const CgroupHierarchy& h : v1) {
    if (h.Has(controller)) return &h;
  }
  return nullptr;
}

absl::StatusOr<CgroupLayout> ParseCgroupLayout(absl::string_view mountinfo,
                                               absl::string_view proc_self_cgroup) {
  // /proc/self/cgroup: "hierarchy-id:controller,list:/path"; cgroup2 is "0::/path".
  std::map<std::string, std::string> own;  // sorted controller list -> path
  std::string own_unified = "/";
  for (absl::string_view line : absl::StrSplit(proc_self_cgroup, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> parts = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (parts.size() != 3) continue;
    if (parts[0] == "0" && parts[1].empty()) {
      own_unified = std::string(parts[2]);
    } else {
      own[SortedKey(absl::StrSplit(parts[1], ',', absl::SkipEmpty()))] = std::string(parts[2]);
    }
  }

  CgroupLayout layout;
  bool root_is_cgroup2 = false;
  // mountinfo: "id parent maj:min root mount-point options [optional...] - fstype source super".
  for (absl::string_view line : absl::StrSplit(mountinfo, '\n', absl::SkipEmpty())) {
    if (!absl::StrContains(line, " - cgroup")) continue;  // fast path: most mounts are not
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    size_t sep = 6;
    while (sep < f.size() && f[sep] != "-") ++sep;
    if (f.size() < 5 || sep + 3 >= f.size()) continue;
    absl::string_view fstype = f[sep + 1];
    CgroupHierarchy h;
    h.root = UnescapeMountinfo(f[3]);
    h.mount_point = UnescapeMountinfo(f[4]);
    if (fstype == "cgroup2") {
      if (h.mount_point == kCgroupRoot) root_is_cgroup2 = true;
      if (layout.unified && h.mount_point != kCgroupRoot) continue;  // first mount wins
      h.own_cgroup = own_unified;
      layout.unified = std::move(h);
    } else if (fstype == "cgroup") {
      for (absl::string_view opt : absl::StrSplit(f[sep + 3], ',')) {
        if (IsV1Controller(opt) || opt == "name=systemd") h.controllers.emplace_back(opt);
      }
      if (h.controllers.empty()) continue;
      bool seen = std::any_of(layout.v1.begin(), layout.v1.end(), [&](const CgroupHierarchy& o) {
        return o.controllers == h.controllers;
      });
      if (seen) continue;  // the same hierarchy mounted again (bind mounts): first wins
      auto it = own.find(SortedKey(h.controllers));
      if (it != own.end()) h.own_cgroup = it->second;
      layout.v1.push_back(std::move(h));
    }
  }

  if (root_is_cgroup2) {
    layout.mode = CgroupMode::kV2;
    layout.v1.clear();
  } else if (!layout.v1.empty()) {
    layout.mode = layout.unified ? CgroupMode::kHybrid : CgroupMode::kV1;
  } else if (layout.unified) {
    layout.mode = CgroupMode::kV2;
  } else {
    return absl::FailedPreconditionError(
        "no cgroup hierarchy is mounted (no cgroup or cgroup2 entry in /proc/self/mountinfo)");
  }
  return layout;
}

absl::StatusOr<CgroupLayout> ReadCgroupLayout() {
  BERTH_ASSIGN_OR_RETURN(std::string mountinfo, ReadFileToString("/proc/self/mountinfo"));
  BERTH_ASSIGN_OR_RETURN(std::string cgroup, ReadFileToString("/proc/self/cgroup"));
  return ParseCgroupLayout(mountinfo, cgroup);
}

absl::StatusOr<std::string> CleanCgroupsPath(absl::string_view cgroups_path,
                                             absl::string_view container_id) {
  std::string path;
  if (cgroups_path.empty()) {
    if (container_id.empty() || container_id == "." || container_id == ".." ||
        absl::StrContains(container_id, '/')) {
      return absl::InvalidArgumentError(
          absl::StrCat("container id \"", container_id, "\" cannot name a cgroup"));
    }
    path = absl::StrCat("/berth-oci/", container_id);
  } else {
    path = std::string(cgroups_path);
  }
  bool absolute = path[0] == '/';
  if (!absolute && std::count(path.begin(), path.end(), ':') == 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("cgroupsPath \"", path,
                     "\" is a systemd slice:prefix:name path, which needs --systemd-cgroup "
                     "(not supported yet)"));
  }
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      if (parts.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("cgroupsPath \"", path, "\" escapes its ",
                         absolute ? "hierarchy's root" : "parent cgroup", " with \"..\""));
      }
      parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  if (parts.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cgroupsPath \"", path, "\" names no cgroup below its ",
                     absolute ? "hierarchy's root" : "parent cgroup"));
  }
  return absl::StrCat(absolute ? "/" : "", absl::StrJoin(parts, "/"));
}

std::string CgroupDirIn(const CgroupHierarchy& hierarchy, absl::string_view clean_path) {
  std::string dir = hierarchy.mount_point;
  if (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (!clean_path.empty() && clean_path[0] == '/') return absl::StrCat(dir, clean_path);
  // Relative: below the caller's own cgroup, which is named from the hierarchy's
  // real root while the mount shows the subtree at `root`.
  absl::string_view own = hierarchy.own_cgroup;
  absl::string_view root = hierarchy.root;
  absl::string_view below_root;
  if (root == "/") {
    below_root = own;
  } else if (absl::StartsWith(own, root) &&
             (own.size() == root.size() || own[root.size()] == '/')) {
    below_root = own.substr(root.size());
  }  // else the own cgroup is not visible under this mount: use the mount's root
  while (!below_root.empty() && below_root.back() == '/') below_root.remove_suffix(1);
  return absl::StrCat(dir, below_root, "/", clean_path);
}

}  // namespace berth::oci
