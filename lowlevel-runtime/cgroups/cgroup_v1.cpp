#include "lowlevel-runtime/cgroups/cgroup_v1.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status.h"

namespace berth::oci {
namespace {

using IfMissing = CgroupWrite::IfMissing;

CgroupWrite Write(std::string controller, std::string file, std::string value) {
  CgroupWrite w;
  w.controller = std::move(controller);
  w.file = std::move(file);
  w.value = std::move(value);
  return w;
}

std::string DeviceNumber(const BlockIoDevice& d) { return absl::StrCat(d.major, ":", d.minor); }

void AppendMemory(const MemoryResources& m, std::vector<CgroupWrite>* out) {
  // runc's semantics: 0 is "not set"; -1 is unlimited.
  int64_t limit = m.limit.value_or(0);
  int64_t swap = m.swap.value_or(0);
  bool implied_swap = false;
  if (limit == -1 && swap == 0) {  // unlimited memory: unlimited memory+swap too
    swap = -1;
    implied_swap = true;
  }
  // Kept in this order; CgroupV1::Apply swaps the two when the kernel refuses a
  // limit above the current memsw limit (limit <= memsw must hold at every step).
  if (limit != 0) out->push_back(Write("memory", "memory.limit_in_bytes", absl::StrCat(limit)));
  if (swap != 0) {
    CgroupWrite w = Write("memory", "memory.memsw.limit_in_bytes", absl::StrCat(swap));
    // No memsw files: the kernel runs without swap accounting (swapaccount=0).
    w.if_missing = implied_swap ? IfMissing::kSkip : IfMissing::kWarn;
    out->push_back(std::move(w));
  }
  if (m.reservation.value_or(0) != 0) {
    out->push_back(Write("memory", "memory.soft_limit_in_bytes", absl::StrCat(*m.reservation)));
  }
  if (m.kernel.value_or(0) != 0) {
    LogWarn("linux.resources.memory.kernel is ignored: kernel memory limits are deprecated");
  }
  if (m.kernel_tcp.value_or(0) != 0) {
    out->push_back(Write("memory", "memory.kmem.tcp.limit_in_bytes", absl::StrCat(*m.kernel_tcp)));
  }
  if (m.swappiness) {
    out->push_back(Write("memory", "memory.swappiness", absl::StrCat(*m.swappiness)));
  }
  if (m.disable_oom_killer.value_or(false)) {
    out->push_back(Write("memory", "memory.oom_control", "1"));
  }
}

void AppendCpu(const CpuResources& c, std::vector<CgroupWrite>* out) {
  if (c.shares.value_or(0) != 0) {
    out->push_back(Write("cpu", "cpu.shares", absl::StrCat(*c.shares)));
  }
  // The period first: a quota is checked against the period in place.
  if (c.period.value_or(0) != 0) {
    out->push_back(Write("cpu", "cpu.cfs_period_us", absl::StrCat(*c.period)));
  }
  if (c.quota.value_or(0) != 0) {
    out->push_back(Write("cpu", "cpu.cfs_quota_us", absl::StrCat(*c.quota)));
  }
  if (c.realtime_period.value_or(0) != 0) {
    out->push_back(Write("cpu", "cpu.rt_period_us", absl::StrCat(*c.realtime_period)));
  }
  if (c.realtime_runtime.value_or(0) != 0) {
    out->push_back(Write("cpu", "cpu.rt_runtime_us", absl::StrCat(*c.realtime_runtime)));
  }
  if (c.idle) out->push_back(Write("cpu", "cpu.idle", absl::StrCat(*c.idle)));
  if (!c.cpus.empty()) out->push_back(Write("cpuset", "cpuset.cpus", c.cpus));
  if (!c.mems.empty()) out->push_back(Write("cpuset", "cpuset.mems", c.mems));
}

void AppendBlockIo(const BlockIoResources& b, std::vector<CgroupWrite>* out) {
  // CFQ's files, or BFQ's when only it is there.
  if (b.weight.value_or(0) != 0) {
    CgroupWrite w = Write("blkio", "blkio.weight", absl::StrCat(*b.weight));
    w.fallback_file = "blkio.bfq.weight";
    out->push_back(std::move(w));
  }
  if (b.leaf_weight.value_or(0) != 0) {
    out->push_back(Write("blkio", "blkio.leaf_weight", absl::StrCat(*b.leaf_weight)));
  }
  for (const BlockIoDevice& d : b.weight_device) {
    if (d.weight.value_or(0) != 0) {
      CgroupWrite w =
          Write("blkio", "blkio.weight_device", absl::StrCat(DeviceNumber(d), " ", *d.weight));
      w.fallback_file = "blkio.bfq.weight_device";
      out->push_back(std::move(w));
    }
    if (d.leaf_weight.value_or(0) != 0) {
      out->push_back(Write("blkio", "blkio.leaf_weight_device",
                           absl::StrCat(DeviceNumber(d), " ", *d.leaf_weight)));
    }
  }
  auto throttle = [&](const std::vector<BlockIoDevice>& devices, const char* file) {
    for (const BlockIoDevice& d : devices) {
      out->push_back(Write("blkio", file, absl::StrCat(DeviceNumber(d), " ", d.rate)));
    }
  };
  throttle(b.throttle_read_bps_device, "blkio.throttle.read_bps_device");
  throttle(b.throttle_write_bps_device, "blkio.throttle.write_bps_device");
  throttle(b.throttle_read_iops_device, "blkio.throttle.read_iops_device");
  throttle(b.throttle_write_iops_device, "blkio.throttle.write_iops_device");
}

// Adds what the kernel's bare errno does not say.
absl::Status ExplainFailure(const std::string& dir, const CgroupWrite& w,
                            const absl::Status& status) {
  int err = ErrnoOf(status);
  bool limit = w.file == "memory.limit_in_bytes";
  bool memsw = w.file == "memory.memsw.limit_in_bytes";
  if (err == EBUSY && (limit || memsw)) {
    absl::StatusOr<std::string> usage =
        ReadCgroupFile(dir, limit ? "memory.usage_in_bytes" : "memory.memsw.usage_in_bytes");
    if (usage.ok()) {
      return AppendToStatus(status, absl::StrCat(" (the cgroup already uses ", *usage,
                                                 " bytes, more than the new limit)"));
    }
  }
  if (err == EINVAL && limit) {
    return AppendToStatus(status, " (above the memory+swap limit: raise the swap limit too)");
  }
  if (err == EINVAL && memsw) {
    return AppendToStatus(status, " (memory+swap must be at least the memory limit)");
  }
  if (err == ENOSPC && w.controller == "cpuset") {
    return AppendToStatus(status, " (cpus/mems outside the parent cgroup's)");
  }
  return status;
}

}  // namespace

absl::StatusOr<std::string> V1DeviceRule(const DeviceCgroupRule& rule) {
  if (rule.access.empty() || rule.access.find_first_not_of("rwm") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("device cgroup rule access \"", rule.access, "\" is not a subset of rwm"));
  }
  if (rule.type == "a") return absl::StrCat("a *:* ", rule.access);
  if (rule.type != "c" && rule.type != "b") {
    return absl::InvalidArgumentError(
        absl::StrCat("device cgroup rule type \"", rule.type, "\" is not a, b or c"));
  }
  auto number = [](const std::optional<int64_t>& n) {
    return n && *n >= 0 ? absl::StrCat(*n) : std::string("*");
  };
  return absl::StrCat(rule.type, " ", number(rule.major), ":", number(rule.minor), " ",
                      rule.access);
}

absl::StatusOr<std::vector<CgroupWrite>> CgroupV1Writes(const Resources& r) {
  std::vector<CgroupWrite> out;
  for (const DeviceCgroupRule& rule : r.devices) {
    BERTH_ASSIGN_OR_RETURN(std::string value, V1DeviceRule(rule));
    out.push_back(Write("devices", rule.allow ? "devices.allow" : "devices.deny", value));
  }
  if (r.memory) {
    if (r.memory->swappiness && *r.memory->swappiness > 100) {
      return absl::InvalidArgumentError(
          absl::StrCat("memory swappiness ", *r.memory->swappiness, " is out of range (0 to 100)"));
    }
    AppendMemory(*r.memory, &out);
  }
  if (r.cpu) AppendCpu(*r.cpu, &out);
  if (r.pids) {
    out.push_back(
        Write("pids", "pids.max", r.pids->limit > 0 ? absl::StrCat(r.pids->limit) : "max"));
  }
  if (r.block_io) AppendBlockIo(*r.block_io, &out);
  for (const HugepageLimit& h : r.hugepage_limits) {
    BERTH_RETURN_IF_ERROR(CheckCgroupFileName("hugepage size", h.page_size));
    out.push_back(Write("hugetlb", absl::StrCat("hugetlb.", h.page_size, ".limit_in_bytes"),
                        absl::StrCat(h.limit)));
  }
  return out;
}

CgroupV1::CgroupV1(std::vector<CgroupV1Dir> dirs, bool exclusive)
    : dirs_(std::move(dirs)), exclusive_(exclusive) {}

const std::string* CgroupV1::DirFor(absl::string_view controller) const {
  for (const CgroupV1Dir& d : dirs_) {
    if (std::find(d.controllers.begin(), d.controllers.end(), controller) != d.controllers.end()) {
      return &d.path;
    }
  }
  return nullptr;
}

absl::Status CgroupV1::CreateDirs(std::vector<std::string>* created) {
  for (const CgroupV1Dir& d : dirs_) {
    size_t first = created->size();
    BERTH_RETURN_IF_ERROR(MakeCgroupDir(d.path, created));
    if (std::find(d.controllers.begin(), d.controllers.end(), "cpuset") == d.controllers.end()) {
      continue;
    }
    // A new cpuset cgroup starts with empty cpus and mems, and no process can
    // join it until they are filled: copy the parent's, top down.
    for (size_t i = first; i < created->size(); ++i) {
      const std::string& dir = (*created)[i];
      std::string parent = dir.substr(0, dir.rfind('/'));
      for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
        BERTH_ASSIGN_OR_RETURN(std::string value, ReadCgroupFile(parent, file));
        if (!value.empty()) BERTH_RETURN_IF_ERROR(WriteCgroupFile(dir, file, value));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CgroupV1::Create(const Resources* resources) {
  std::vector<std::string> created;
  absl::Status status = CreateDirs(&created);
  if (status.ok() && resources != nullptr) status = Apply(*resources);
  if (!status.ok()) RemoveCreatedDirs(created);
  return status;
}

absl::Status CgroupV1::AddProcess(pid_t pid) {
  std::string value = absl::StrCat(pid);
  for (const CgroupV1Dir& d : dirs_) {
    BERTH_RETURN_IF_ERROR(WriteCgroupFile(d.path, "cgroup.procs", value));
  }
  return absl::OkStatus();
}

absl::Status CgroupV1::Apply(const Resources& resources) {
  if (exclusive_ && !resources.unified.empty()) {
    return absl::InvalidArgumentError(
        "linux.resources.unified needs cgroup v2, and this host has only cgroup v1");
  }
  BERTH_ASSIGN_OR_RETURN(std::vector<CgroupWrite> writes, CgroupV1Writes(resources));
  for (size_t i = 0; i < writes.size(); ++i) {
    const CgroupWrite& w = writes[i];
    const std::string* dir = DirFor(w.controller);
    if (dir == nullptr) {
      if (!exclusive_) continue;  // hybrid: the unified hierarchy has it
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot set ", w.file, ": the ", w.controller, " cgroup controller is not mounted"));
    }
    absl::Status status = ApplyCgroupWrite(*dir, w);
    if (!status.ok() && ErrnoOf(status) == EINVAL && w.file == "memory.limit_in_bytes" &&
        i + 1 < writes.size() && writes[i + 1].file == "memory.memsw.limit_in_bytes") {
      // Raising the limit above the current memsw limit: memsw first.
      BERTH_RETURN_IF_ERROR(
          ExplainFailure(*dir, writes[i + 1], ApplyCgroupWrite(*dir, writes[i + 1])));
      status = ApplyCgroupWrite(*dir, w);
      ++i;
    }
    if (!status.ok()) return ExplainFailure(*dir, w, status);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<pid_t>> CgroupV1::Pids() const {
  std::vector<pid_t> pids;
  BERTH_RETURN_IF_ERROR(CollectCgroupPids(PrimaryPath(), &pids));
  return pids;
}

absl::Status CgroupV1::Freeze(bool frozen) {
  const std::string* dir = DirFor("freezer");
  if (dir == nullptr) {
    return absl::UnimplementedError("cannot freeze: the freezer cgroup controller is not mounted");
  }
  const absl::string_view want = frozen ? "FROZEN" : "THAWED";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  useconds_t delay_us = 50;
  for (int i = 0;; ++i) {
    // Asking again makes the kernel retry tasks that could not be frozen yet.
    if (i % 8 == 0) BERTH_RETURN_IF_ERROR(WriteCgroupFile(*dir, "freezer.state", want));
    BERTH_ASSIGN_OR_RETURN(std::string state, ReadCgroupFile(*dir, "freezer.state"));
    if (state == want) return absl::OkStatus();
    if (std::chrono::steady_clock::now() > deadline) {
      if (frozen) (void)WriteCgroupFile(*dir, "freezer.state", "THAWED");
      return absl::DeadlineExceededError(absl::StrCat("freeze ", *dir, ": freezer.state is still ",
                                                      state, " after 5s",
                                                      frozen ? "; thawed it again" : ""));
    }
    ::usleep(delay_us);
    delay_us = std::min<useconds_t>(delay_us * 2, 10000);
  }
}

absl::StatusOr<bool> CgroupV1::Frozen() const {
  const std::string* dir = DirFor("freezer");
  if (dir == nullptr) return false;
  BERTH_ASSIGN_OR_RETURN(std::string state, ReadCgroupFile(*dir, "freezer.state"));
  return state == "FROZEN";
}

absl::Status CgroupV1::Destroy() {
  absl::Status first;
  for (const CgroupV1Dir& d : dirs_) {
    absl::Status status = RemoveCgroupDir(d.path);
    if (first.ok()) first = status;
  }
  return first;
}

std::string CgroupV1::PrimaryPath() const {
  if (const std::string* memory = DirFor("memory")) return *memory;
  return dirs_.empty() ? std::string() : dirs_.front().path;
}

std::vector<std::string> CgroupV1::Paths() const {
  std::vector<std::string> paths;
  paths.reserve(dirs_.size());
  for (const CgroupV1Dir& d : dirs_) paths.push_back(d.path);
  return paths;
}

}  // namespace berth::oci
