#include "lowlevel-runtime/namespaces.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/fd_util.h"
#include "common/status.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace berth::oci {

absl::StatusOr<int> NamespaceFlag(const std::string& type) {
  if (type == "pid") return CLONE_NEWPID;
  if (type == "network") return CLONE_NEWNET;
  if (type == "mount") return CLONE_NEWNS;
  if (type == "ipc") return CLONE_NEWIPC;
  if (type == "uts") return CLONE_NEWUTS;
  if (type == "user") return CLONE_NEWUSER;
  if (type == "cgroup") return CLONE_NEWCGROUP;
  if (type == "time") return CLONE_NEWTIME;
  return absl::InvalidArgumentError(absl::StrCat("unknown namespace type \"", type, "\""));
}

absl::StatusOr<NamespacePlan> PlanNamespaces(const Linux& linux) {
  NamespacePlan plan;
  std::set<std::string> seen;
  for (size_t i = 0; i < linux.namespaces.size(); ++i) {
    const Namespace& ns = linux.namespaces[i];
    std::string field = absl::StrCat("linux.namespaces[", i, "]");
    if (!seen.insert(ns.type).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": namespace \"", ns.type, "\" listed twice"));
    }
    BERTH_ASSIGN_OR_RETURN(int flag, NamespaceFlag(ns.type));
    if (flag == CLONE_NEWNS) plan.has_mount_ns = true;
    if (flag == CLONE_NEWUTS) plan.has_uts_ns = true;
    if (flag == CLONE_NEWPID) plan.has_pid_ns = true;
    if (ns.path.empty()) {
      if (flag == CLONE_NEWTIME) {
        plan.new_time = true;
      } else {
        plan.clone_flags |= flag;
      }
      if (flag == CLONE_NEWUSER) plan.new_user = true;
      continue;
    }
    auto fd = OpenFile(ns.path, O_RDONLY);
    if (!fd.ok()) return Annotate(fd.status(), absl::StrCat(field, ".path"));
    int actual = ::ioctl(fd->Get(), NS_GET_NSTYPE);
    if (actual < 0 || actual != flag) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".path: \"", ns.path, "\" is not a ", ns.type, " namespace"));
    }
    plan.joins.push_back({flag, ns.type, *std::move(fd)});
  }
  // The user namespace must be joined first: it decides what the others allow.
  std::stable_sort(plan.joins.begin(), plan.joins.end(), [](const auto& a, const auto& b) {
    return (a.flag == CLONE_NEWUSER) > (b.flag == CLONE_NEWUSER);
  });
  if (!linux.uid_mappings.empty() && !plan.new_user) {
    return absl::InvalidArgumentError(
        "linux.uidMappings: given without a new user namespace in linux.namespaces");
  }
  if (plan.new_user && (linux.uid_mappings.empty() || linux.gid_mappings.empty())) {
    return absl::InvalidArgumentError(
        "linux.uidMappings/gidMappings: required with a new user namespace");
  }
  return plan;
}

absl::Status JoinNamespaces(NamespacePlan& plan, bool skip_pid) {
  for (auto& join : plan.joins) {
    if (skip_pid && join.flag == CLONE_NEWPID) continue;
    if (::setns(join.fd.Get(), join.flag) != 0) {
      return LastErrnoError(absl::StrCat("join ", join.type, " namespace"));
    }
    join.fd.Reset();
  }
  return absl::OkStatus();
}

namespace {

std::string MappingText(const std::vector<IdMapping>& mappings) {
  std::string text;
  for (const IdMapping& m : mappings) {
    absl::StrAppend(&text, m.container_id, " ", m.host_id, " ", m.size, "\n");
  }
  return text;
}

}  // namespace

absl::Status WriteIdMappings(pid_t pid, const Linux& linux) {
  std::string proc = absl::StrCat("/proc/", pid);
  bool unprivileged = ::geteuid() != 0;
  auto write_map = [&](const char* file, const std::vector<IdMapping>& mappings) {
    absl::Status st = WriteStringToFile(absl::StrCat(proc, "/", file), MappingText(mappings));
    if (!st.ok() && unprivileged) {
      return Annotate(st, "rootless: an unprivileged user can map only its own uid and gid");
    }
    return st;
  };
  BERTH_RETURN_IF_ERROR(write_map("uid_map", linux.uid_mappings));
  if (unprivileged) {
    // Without CAP_SETGID in the parent namespace the kernel takes a gid_map only
    // once setgroups(2) is denied in the new namespace (user_namespaces(7)).
    BERTH_RETURN_IF_ERROR(WriteStringToFile(proc + "/setgroups", "deny"));
  }
  return write_map("gid_map", linux.gid_mappings);
}

}  // namespace berth::oci
