#include "lowlevel-runtime/cgroups/cgroup_v2.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/fd_util.h"
#include "common/log.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "lowlevel-runtime/cgroups/device_filter.h"

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

// -1 is unlimited, written "max".
std::string NumberOrMax(int64_t value) {
  return value == -1 ? std::string("max") : absl::StrCat(value);
}

std::string DeviceNumber(const BlockIoDevice& d) { return absl::StrCat(d.major, ":", d.minor); }

absl::Status AppendMemory(const MemoryResources& m, std::vector<CgroupWrite>* out) {
  int64_t limit = m.limit.value_or(0);
  int64_t reservation = m.reservation.value_or(0);
  if (limit < -1) {
    return absl::InvalidArgumentError(absl::StrCat("memory limit ", limit, " is invalid"));
  }
  if (reservation < -1) {
    return absl::InvalidArgumentError(
        absl::StrCat("memory reservation ", reservation, " is invalid"));
  }
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> swap_max,
                         MemorySwapMax(m.swap.value_or(0), limit));
  if (swap_max) {
    CgroupWrite w = Write("memory", "memory.swap.max", *swap_max);
    // Without swap (no memory.swap.max), "unlimited" and "none" hold anyway.
    if (*swap_max == "max" || *swap_max == "0") w.if_missing = IfMissing::kSkip;
    out->push_back(std::move(w));
  }
  if (limit != 0) out->push_back(Write("memory", "memory.max", NumberOrMax(limit)));
  if (reservation != 0) out->push_back(Write("memory", "memory.low", NumberOrMax(reservation)));
  if (m.swappiness) LogWarn("memory swappiness is ignored: cgroup v2 has no per-cgroup setting");
  if (m.disable_oom_killer.value_or(false)) {
    LogWarn("disableOOMKiller is ignored: cgroup v2 cannot disable the OOM killer");
  }
  if (m.kernel.value_or(0) != 0 || m.kernel_tcp.value_or(0) != 0) {
    LogWarn("kernel memory limits are ignored on cgroup v2");
  }
  return absl::OkStatus();
}

absl::Status AppendCpu(const CpuResources& c, std::vector<CgroupWrite>* out) {
  if (c.realtime_runtime.value_or(0) != 0 || c.realtime_period.value_or(0) != 0) {
    return absl::InvalidArgumentError(
        "realtime CPU limits (cpu.realtimeRuntime, cpu.realtimePeriod) are not supported on "
        "cgroup v2");
  }
  if (c.shares.value_or(0) != 0) {
    out->push_back(Write("cpu", "cpu.weight", absl::StrCat(CpuSharesToWeight(*c.shares))));
  }
  int64_t quota = c.quota.value_or(0);
  uint64_t period = c.period.value_or(0);
  if (quota != 0 || period != 0) {
    // "$QUOTA $PERIOD"; without a period the kernel keeps the current one.
    std::string value = quota > 0 ? absl::StrCat(quota) : std::string("max");
    if (period != 0) absl::StrAppend(&value, " ", period);
    out->push_back(Write("cpu", "cpu.max", value));
  }
  if (c.idle) out->push_back(Write("cpu", "cpu.idle", absl::StrCat(*c.idle)));
  if (!c.cpus.empty()) out->push_back(Write("cpuset", "cpuset.cpus", c.cpus));
  if (!c.mems.empty()) out->push_back(Write("cpuset", "cpuset.mems", c.mems));
  return absl::OkStatus();
}

void AppendIo(const BlockIoResources& b, std::vector<CgroupWrite>* out) {
  // BFQ takes v1's weight range as is; io.weight (blk-iocost) has its own.
  if (b.weight.value_or(0) != 0) {
    CgroupWrite w = Write("io", "io.bfq.weight", absl::StrCat(*b.weight));
    w.fallback_file = "io.weight";
    w.fallback_value = absl::StrCat(BlkioWeightToIoWeight(*b.weight));
    out->push_back(std::move(w));
  }
  for (const BlockIoDevice& d : b.weight_device) {
    if (d.weight.value_or(0) == 0) continue;
    CgroupWrite w = Write("io", "io.bfq.weight", absl::StrCat(DeviceNumber(d), " ", *d.weight));
    w.fallback_file = "io.weight";
    w.fallback_value = absl::StrCat(DeviceNumber(d), " ", BlkioWeightToIoWeight(*d.weight));
    out->push_back(std::move(w));
  }
  bool leaf = b.leaf_weight.value_or(0) != 0 ||
              std::any_of(b.weight_device.begin(), b.weight_device.end(),
                          [](const BlockIoDevice& d) { return d.leaf_weight.value_or(0) != 0; });
  if (leaf) LogWarn("blkio leaf weights are ignored: cgroup v2 has none");
  auto throttle = [&](const std::vector<BlockIoDevice>& devices, const char* key) {
    for (const BlockIoDevice& d : devices) {
      // v1 takes 0 as "no limit"; v2 spells it "max".
      std::string rate = d.rate == 0 ? std::string("max") : absl::StrCat(d.rate);
      out->push_back(Write("io", "io.max", absl::StrCat(DeviceNumber(d), " ", key, "=", rate)));
    }
  };
  throttle(b.throttle_read_bps_device, "rbps");
  throttle(b.throttle_write_bps_device, "wbps");
  throttle(b.throttle_read_iops_device, "riops");
  throttle(b.throttle_write_iops_device, "wiops");
}

}  // namespace

uint64_t CpuSharesToWeight(uint64_t shares) {
  if (shares == 0) return 0;
  shares = std::clamp<uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t BlkioWeightToIoWeight(uint64_t weight) {
  if (weight == 0) return 0;
  weight = std::clamp<uint64_t>(weight, 10, 1000);
  return 1 + (weight - 10) * 9999 / 990;
}

absl::StatusOr<std::optional<std::string>> MemorySwapMax(int64_t swap, int64_t limit) {
  // As cgroup v1 did: unlimited memory with no swap setting is unlimited swap.
  if (limit == -1 && swap == 0) return std::optional<std::string>("max");
  if (swap == 0) return std::optional<std::string>();
  if (swap == -1) return std::optional<std::string>("max");
  if (swap < 0)
    return absl::InvalidArgumentError(absl::StrCat("memory swap ", swap, " is invalid"));
  if (limit == 0 || limit == -1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "memory swap ", swap, " needs a memory limit: cgroup v2 limits swap apart from memory"));
  }
  if (swap < limit) {
    return absl::InvalidArgumentError(absl::StrCat("memory swap ", swap,
                                                   " must be at least the memory limit ", limit,
                                                   ": it limits memory plus swap"));
  }
  return std::optional<std::string>(absl::StrCat(swap - limit));
}

absl::StatusOr<std::vector<CgroupWrite>> CgroupV2Writes(const Resources& r) {
  std::vector<CgroupWrite> out;
  // Device rules (r.devices) are not files on v2: CgroupV2::Apply attaches them
  // as an eBPF program (device_filter.h).
  if (r.memory) BERTH_RETURN_IF_ERROR(AppendMemory(*r.memory, &out));
  if (r.cpu) BERTH_RETURN_IF_ERROR(AppendCpu(*r.cpu, &out));
  if (r.pids) {
    out.push_back(
        Write("pids", "pids.max", r.pids->limit > 0 ? absl::StrCat(r.pids->limit) : "max"));
  }
  if (r.block_io) AppendIo(*r.block_io, &out);
  for (const HugepageLimit& h : r.hugepage_limits) {
    BERTH_RETURN_IF_ERROR(CheckCgroupFileName("hugepage size", h.page_size));
    out.push_back(
        Write("hugetlb", absl::StrCat("hugetlb.", h.page_size, ".max"), absl::StrCat(h.limit)));
  }
  for (const auto& [key, value] : r.unified) {
    BERTH_RETURN_IF_ERROR(CheckCgroupFileName("linux.resources.unified key", key));
    out.push_back(Write("unified", key, value));
  }
  return out;
}

CgroupV2::CgroupV2(std::string mount_point, std::string dir,
                   std::vector<std::string> v1_controllers)
    : mount_point_(std::move(mount_point)),
      dir_(std::move(dir)),
      v1_controllers_(std::move(v1_controllers)) {
  while (mount_point_.size() > 1 && mount_point_.back() == '/') mount_point_.pop_back();
}

bool CgroupV2::Skipped(absl::string_view controller) const {
  if (controller == "unified") return false;
  absl::string_view v1_name = controller == "io" ? "blkio" : controller;
  return std::find(v1_controllers_.begin(), v1_controllers_.end(), v1_name) !=
         v1_controllers_.end();
}

absl::Status CgroupV2::CreateDirs(std::vector<std::string>* created) {
  BERTH_RETURN_IF_ERROR(MakeCgroupDir(dir_, created));
  BERTH_ASSIGN_OR_RETURN(std::string available, ReadCgroupFile(mount_point_, "cgroup.controllers"));
  std::vector<absl::string_view> controllers =
      absl::StrSplit(available, ' ', absl::SkipWhitespace());
  if (controllers.empty() || !absl::StartsWith(dir_, absl::StrCat(mount_point_, "/"))) {
    return absl::OkStatus();
  }
  std::string all = absl::StrCat("+", absl::StrJoin(controllers, " +"));
  // Every ancestor from the root down to the cgroup's parent.
  std::vector<absl::string_view> parts =
      absl::StrSplit(absl::string_view(dir_).substr(mount_point_.size()), '/', absl::SkipEmpty());
  std::string level = mount_point_;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) absl::StrAppend(&level, "/", parts[i - 1]);
    if (WriteCgroupFile(level, "cgroup.subtree_control", all).ok()) continue;
    // One controller can fail (cpu with realtime tasks, any in a cgroup with
    // processes of its own): enable what can be; writes that need a missing
    // controller then fail by name.
    for (absl::string_view c : controllers) {
      absl::Status status = WriteCgroupFile(level, "cgroup.subtree_control", absl::StrCat("+", c));
      if (!status.ok()) LogDebug("{}", status.message());
    }
  }
  return absl::OkStatus();
}

absl::Status CgroupV2::Create(const Resources* resources) {
  std::vector<std::string> created;
  absl::Status status = CreateDirs(&created);
  if (status.ok() && resources != nullptr) status = Apply(*resources);
  if (!status.ok()) RemoveCreatedDirs(created);
  return status;
}

absl::Status CgroupV2::AddProcess(pid_t pid) {
  return WriteCgroupFile(dir_, "cgroup.procs", absl::StrCat(pid));
}

absl::Status CgroupV2::Apply(const Resources& resources) {
  // Device rules: an eBPF program, unless a v1 devices controller (hybrid) has them.
  if (!resources.devices.empty() && !Skipped("devices")) {
    BERTH_ASSIGN_OR_RETURN(UniqueFd dir, OpenFile(dir_, O_RDONLY | O_DIRECTORY));
    BERTH_RETURN_IF_ERROR(AttachDeviceFilter(dir.Get(), resources.devices));
  }
  BERTH_ASSIGN_OR_RETURN(std::vector<CgroupWrite> writes, CgroupV2Writes(resources));
  for (const CgroupWrite& w : writes) {
    if (Skipped(w.controller)) continue;
    absl::Status status = ApplyCgroupWrite(dir_, w);
    if (status.ok()) continue;
    if (ErrnoOf(status) != ENOENT) return status;
    if (w.controller == "unified") {
      return AppendToStatus(status, " (no such cgroup interface file for linux.resources.unified)");
    }
    absl::StatusOr<std::string> enabled = ReadCgroupFile(dir_, "cgroup.controllers");
    if (enabled.ok() && !absl::StrContains(absl::StrCat(" ", *enabled, " "),
                                           absl::StrCat(" ", w.controller, " "))) {
      return AppendToStatus(status, absl::StrCat(" (the ", w.controller,
                                                 " controller is not available to this cgroup; "
                                                 "it has: ",
                                                 enabled->empty() ? "none" : *enabled, ")"));
    }
    return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<pid_t>> CgroupV2::Pids() const {
  std::vector<pid_t> pids;
  BERTH_RETURN_IF_ERROR(CollectCgroupPids(dir_, &pids));
  return pids;
}

absl::Status CgroupV2::WaitFrozen(bool frozen) const {
  std::string path = absl::StrCat(dir_, "/cgroup.events");
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    return ErrnoError(err, absl::StrCat("read ", path));
  }
  const absl::string_view want = frozen ? "1" : "0";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    char buf[512];
    ssize_t n = ::pread(fd.Get(), buf, sizeof buf, 0);
    if (n < 0) {
      int err = errno;
      if (err == EINTR) continue;
      return ErrnoError(err, absl::StrCat("read ", path));
    }
    std::optional<std::string> state =
        FindKeyedValue(absl::string_view(buf, static_cast<size_t>(n)), "frozen");
    if (state == want) return absl::OkStatus();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return absl::DeadlineExceededError(
          absl::StrCat(path, ": still \"frozen ", state.value_or("?"), "\" after 5s"));
    }
    // cgroup.events signals changes with POLLPRI; the timeout is a safety net.
    pollfd pfd = {fd.Get(), POLLPRI, 0};
    ::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left.count(), 20)));
  }
}

absl::Status CgroupV2::Freeze(bool frozen) {
  BERTH_RETURN_IF_ERROR(WriteCgroupFile(dir_, "cgroup.freeze", frozen ? "1" : "0"));
  absl::Status status = WaitFrozen(frozen);
  if (!status.ok() && frozen) {
    (void)WriteCgroupFile(dir_, "cgroup.freeze", "0");
    return AppendToStatus(status, "; thawed it again");
  }
  return status;
}

absl::StatusOr<bool> CgroupV2::Frozen() const {
  BERTH_ASSIGN_OR_RETURN(std::string events, ReadCgroupFile(dir_, "cgroup.events"));
  return FindKeyedValue(events, "frozen") == "1";
}

absl::Status CgroupV2::Destroy() { return RemoveCgroupDir(dir_); }

}  // namespace berth::oci
