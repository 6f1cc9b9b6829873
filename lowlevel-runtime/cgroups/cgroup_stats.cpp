#include "lowlevel-runtime/cgroups/cgroup_stats.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fd_util.h"
#include "common/status.h"

namespace berth::oci {
namespace {

// The first directory holding `file`, or "".
std::string DirWith(const std::vector<std::string>& dirs, const std::string& file) {
  for (const std::string& dir : dirs) {
    if (::access(absl::StrCat(dir, "/", file).c_str(), F_OK) == 0) return dir;
  }
  return "";
}

std::string ReadTrimmed(const std::string& path) {
  std::string text = ReadFileToString(path).value_or("");
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// "max" and unreadable files read as 0 for counters; limits use UINT64_MAX for "max".
uint64_t ReadNumber(const std::string& path, bool max_is_unlimited = false) {
  std::string text = ReadTrimmed(path);
  if (text == "max") return max_is_unlimited ? UINT64_MAX : 0;
  uint64_t value = 0;
  return absl::SimpleAtoi(text, &value) ? value : 0;
}

// "key value" lines (memory.stat, cpu.stat, cpuacct.stat).
std::map<std::string, uint64_t> ReadKeyValues(const std::string& path) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(ReadTrimmed(path));
  std::string key;
  uint64_t value;
  while (in >> key >> value) out[key] = value;
  return out;
}

Json CpuStats(const std::vector<std::string>& dirs) {
  Json usage = {{"total", 0}, {"percpu", Json::array()}, {"kernel", 0}, {"user", 0}};
  Json throttling = {{"periods", 0}, {"throttledPeriods", 0}, {"throttledTime", 0}};
  if (std::string v1 = DirWith(dirs, "cpuacct.usage"); !v1.empty()) {
    usage["total"] = ReadNumber(v1 + "/cpuacct.usage");
    std::istringstream percpu(ReadTrimmed(v1 + "/cpuacct.usage_percpu"));
    uint64_t n;
    while (percpu >> n) usage["percpu"].push_back(n);
    auto ticks = ReadKeyValues(v1 + "/cpuacct.stat");  // USER_HZ ticks
    uint64_t ns_per_tick = 1000000000ULL / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
    usage["user"] = ticks["user"] * ns_per_tick;
    usage["kernel"] = ticks["system"] * ns_per_tick;
  }
  if (std::string v1 = DirWith(dirs, "cpu.cfs_quota_us"); !v1.empty()) {
    auto stat = ReadKeyValues(v1 + "/cpu.stat");
    throttling = {{"periods", stat["nr_periods"]},
                  {"throttledPeriods", stat["nr_throttled"]},
                  {"throttledTime", stat["throttled_time"]}};
  } else if (std::string v2 = DirWith(dirs, "cpu.stat"); !v2.empty() && usage["total"] == 0) {
    auto stat = ReadKeyValues(v2 + "/cpu.stat");  // microseconds
    usage["total"] = stat["usage_usec"] * 1000;
    usage["user"] = stat["user_usec"] * 1000;
    usage["kernel"] = stat["system_usec"] * 1000;
    throttling = {{"periods", stat["nr_periods"]},
                  {"throttledPeriods", stat["nr_throttled"]},
                  {"throttledTime", stat["throttled_usec"] * 1000}};
  }
  return {{"usage", usage}, {"throttling", throttling}};
}

Json MemoryStats(const std::vector<std::string>& dirs) {
  Json memory = Json::object();
  if (std::string v1 = DirWith(dirs, "memory.usage_in_bytes"); !v1.empty()) {
    auto entry = [&](const std::string& prefix) {
      return Json{{"usage", ReadNumber(absl::StrCat(v1, "/", prefix, ".usage_in_bytes"))},
                  {"max", ReadNumber(absl::StrCat(v1, "/", prefix, ".max_usage_in_bytes"))},
                  {"failcnt", ReadNumber(absl::StrCat(v1, "/", prefix, ".failcnt"))},
                  {"limit", ReadNumber(absl::StrCat(v1, "/", prefix, ".limit_in_bytes"))}};
    };
    memory["usage"] = entry("memory");
    memory["swap"] = entry("memory.memsw");
    memory["kernel"] = entry("memory.kmem");
    memory["raw"] = ReadKeyValues(v1 + "/memory.stat");
  } else if (std::string v2 = DirWith(dirs, "memory.current"); !v2.empty()) {
    memory["usage"] = {{"usage", ReadNumber(v2 + "/memory.current")},
                       {"max", ReadNumber(v2 + "/memory.peak")},
                       {"failcnt", 0},
                       {"limit", ReadNumber(v2 + "/memory.max", true)}};
    memory["swap"] = {{"usage", ReadNumber(v2 + "/memory.swap.current")},
                      {"limit", ReadNumber(v2 + "/memory.swap.max", true)}};
    memory["raw"] = ReadKeyValues(v2 + "/memory.stat");
  }
  return memory;
}

Json PidsStats(const std::vector<std::string>& dirs) {
  std::string dir = DirWith(dirs, "pids.current");
  if (dir.empty()) return Json::object();
  uint64_t limit = ReadNumber(dir + "/pids.max");  // "max" -> 0, as runc reports it
  return {{"current", ReadNumber(dir + "/pids.current")}, {"limit", limit}};
}

Json BlkioStats(const std::vector<std::string>& dirs) {
  Json entries = Json::array();
  if (std::string v1 = DirWith(dirs, "blkio.throttle.io_service_bytes_recursive"); !v1.empty()) {
    std::istringstream in(ReadTrimmed(v1 + "/blkio.throttle.io_service_bytes_recursive"));
    std::string line;
    while (std::getline(in, line)) {
      std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
      std::vector<std::string> dev = absl::StrSplit(f[0], ':');
      uint64_t major = 0, minor = 0, value = 0;
      if (f.size() != 3 || dev.size() != 2 || !absl::SimpleAtoi(dev[0], &major) ||
          !absl::SimpleAtoi(dev[1], &minor) || !absl::SimpleAtoi(f[2], &value)) {
        continue;
      }
      entries.push_back({{"major", major}, {"minor", minor}, {"op", f[1]}, {"value", value}});
    }
  } else if (std::string v2 = DirWith(dirs, "io.stat"); !v2.empty()) {
    std::istringstream in(ReadTrimmed(v2 + "/io.stat"));
    std::string line;
    while (std::getline(in, line)) {
      std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (f.empty()) continue;
      std::vector<std::string> dev = absl::StrSplit(f[0], ':');
      uint64_t major = 0, minor = 0;
      if (dev.size() != 2 || !absl::SimpleAtoi(dev[0], &major) ||
          !absl::SimpleAtoi(dev[1], &minor)) {
        continue;
      }
      for (size_t i = 1; i < f.size(); ++i) {
        std::vector<std::string> kv = absl::StrSplit(f[i], '=');
        uint64_t value = 0;
        if (kv.size() != 2 || !absl::SimpleAtoi(kv[1], &value)) continue;
        std::string op = kv[0] == "rbytes" ? "Read" : kv[0] == "wbytes" ? "Write" : "";
        if (!op.empty()) {
          entries.push_back({{"major", major}, {"minor", minor}, {"op", op}, {"value", value}});
        }
      }
    }
  }
  return {{"ioServiceBytesRecursive", entries}};
}

}  // namespace

Json CgroupStats(const std::vector<std::string>& cgroup_dirs) {
  return {{"cpu", CpuStats(cgroup_dirs)},
          {"memory", MemoryStats(cgroup_dirs)},
          {"pids", PidsStats(cgroup_dirs)},
          {"blkio", BlkioStats(cgroup_dirs)}};
}

absl::StatusOr<OomWatch> OomWatch::Open(const std::vector<std::string>& cgroup_dirs) {
  OomWatch watch;
  if (std::string v1 = DirWith(cgroup_dirs, "memory.oom_control"); !v1.empty()) {
    watch.fd_.Reset(::eventfd(0, EFD_CLOEXEC));
    if (!watch.fd_) return LastErrnoError("eventfd");
    BERTH_ASSIGN_OR_RETURN(watch.control_, OpenFile(v1 + "/memory.oom_control", O_RDONLY));
    BERTH_RETURN_IF_ERROR(WriteStringToFile(
        v1 + "/cgroup.event_control", absl::StrCat(watch.fd_.Get(), " ", watch.control_.Get())));
    return watch;
  }
  if (std::string v2 = DirWith(cgroup_dirs, "memory.events"); !v2.empty()) {
    watch.fd_.Reset(::inotify_init1(IN_CLOEXEC));
    if (!watch.fd_) return LastErrnoError("inotify_init1");
    watch.events_ = v2 + "/memory.events";
    if (::inotify_add_watch(watch.fd_.Get(), watch.events_.c_str(), IN_MODIFY) < 0) {
      return LastErrnoError(absl::StrCat("watch ", watch.events_));
    }
    watch.oom_kills_ = static_cast<long long>(ReadKeyValues(watch.events_)["oom_kill"]);
    return watch;
  }
  return absl::NotFoundError("no memory controller for this container");
}

bool OomWatch::Consume() {
  char buf[4096];
  ssize_t n = ::read(fd_.Get(), buf, sizeof buf);
  if (n <= 0) return false;
  if (events_.empty()) return true;  // v1: the eventfd only fires on OOM
  long long kills = static_cast<long long>(ReadKeyValues(events_)["oom_kill"]);
  bool oom = kills > oom_kills_;
  oom_kills_ = kills;
  return oom;
}

}  // namespace berth::oci
