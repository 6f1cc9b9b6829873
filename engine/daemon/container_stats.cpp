#include "engine/daemon/container_stats.h"

#include <sys/sysinfo.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "engine/daemon/container.h"

namespace berth::engine {
namespace {

using OJ = nlohmann::ordered_json;

// Go's omitempty for a number.
void PutNonZero(OJ& j, const char* key, uint64_t value) {
  if (value != 0) j[key] = value;
}

absl::Time ReadAt(const api::StatsResponse& r) {
  return absl::FromUnixSeconds(r.read_at().seconds()) + absl::Nanoseconds(r.read_at().nanos());
}

OJ CpuJson(const api::StatsResponse* r) {
  OJ usage;
  const api::CpuStats empty;
  const api::CpuStats& cpu = r != nullptr ? r->cpu() : empty;
  usage["total_usage"] = cpu.total_usage_ns();
  if (cpu.per_cpu_usage_ns_size() > 0) {
    usage["percpu_usage"] =
        std::vector<uint64_t>(cpu.per_cpu_usage_ns().begin(), cpu.per_cpu_usage_ns().end());
  }
  usage["usage_in_kernelmode"] = cpu.kernel_usage_ns();
  usage["usage_in_usermode"] = cpu.user_usage_ns();
  OJ j;
  j["cpu_usage"] = std::move(usage);
  if (r != nullptr) {
    // dockerd reads the host's time itself; runtimed reads it with the sample.
    uint64_t system = cpu.system_usage_ns() != 0 ? cpu.system_usage_ns() : HostSystemCpuUsageNs();
    uint64_t online = cpu.online_cpus() != 0
                          ? cpu.online_cpus()
                          : static_cast<uint64_t>(std::max(0L, ::sysconf(_SC_NPROCESSORS_ONLN)));
    PutNonZero(j, "system_cpu_usage", system);
    PutNonZero(j, "online_cpus", online);
  }
  j["throttling_data"] = {{"periods", cpu.throttling_periods()},
                          {"throttled_periods", cpu.throttled_periods()},
                          {"throttled_time", cpu.throttled_time_ns()}};
  return j;
}

OJ BlkioEntries(const google::protobuf::RepeatedPtrField<api::BlkioEntry>& entries) {
  OJ list = OJ::array();
  for (const api::BlkioEntry& e : entries) {
    list.push_back(
        {{"major", e.major()}, {"minor", e.minor()}, {"op", e.op()}, {"value", e.value()}});
  }
  return list;
}

}  // namespace

uint64_t HostMemoryBytes() {
  struct sysinfo si {};
  if (::sysinfo(&si) != 0) return 0;
  return static_cast<uint64_t>(si.totalram) * si.mem_unit;
}

uint64_t HostSystemCpuUsageNs() {
  std::ifstream in("/proc/stat");
  std::string line;
  if (!std::getline(in, line)) return 0;
  std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
  if (fields.size() < 8 || fields[0] != "cpu") return 0;
  uint64_t ticks = 0;
  for (size_t i = 1; i < 8; ++i) {
    uint64_t v = 0;
    if (!absl::SimpleAtoi(fields[i], &v)) return 0;
    ticks += v;
  }
  long hz = ::sysconf(_SC_CLK_TCK);
  if (hz <= 0) hz = 100;
  return ticks * (1'000'000'000ULL / static_cast<uint64_t>(hz));
}

nlohmann::ordered_json StatsJson(const std::string& id, const std::string& name,
                                 const api::StatsResponse* cur, const api::StatsResponse* pre,
                                 uint64_t host_memory) {
  OJ j;
  j["read"] = FormatDockerTime(cur != nullptr ? ReadAt(*cur) : absl::InfinitePast());
  j["preread"] = FormatDockerTime(pre != nullptr ? ReadAt(*pre) : absl::InfinitePast());
  OJ pids = OJ::object();
  if (cur != nullptr) {
    PutNonZero(pids, "current", cur->pids().current());
    PutNonZero(pids, "limit", cur->pids().limit());
  }
  j["pids_stats"] = std::move(pids);
  OJ blkio;
  blkio["io_service_bytes_recursive"] =
      cur != nullptr ? BlkioEntries(cur->blkio().io_service_bytes_recursive()) : OJ();
  blkio["io_serviced_recursive"] =
      cur != nullptr ? BlkioEntries(cur->blkio().io_serviced_recursive()) : OJ();
  for (const char* key :
       {"io_queue_recursive", "io_service_time_recursive", "io_wait_time_recursive",
        "io_merged_recursive", "io_time_recursive", "sectors_recursive"}) {
    blkio[key] = nullptr;
  }
  j["blkio_stats"] = std::move(blkio);
  j["num_procs"] = 0;
  j["storage_stats"] = OJ::object();
  j["cpu_stats"] = CpuJson(cur);
  j["precpu_stats"] = CpuJson(pre);
  OJ memory = OJ::object();
  if (cur != nullptr) {
    const api::MemoryStats& m = cur->memory();
    PutNonZero(memory, "usage", m.usage());
    PutNonZero(memory, "max_usage", m.max_usage());
    if (m.stats_size() > 0) {
      std::map<std::string, uint64_t> sorted(m.stats().begin(), m.stats().end());
      memory["stats"] = sorted;
    }
    PutNonZero(memory, "failcnt", m.failcnt());
    // No limit (cgroup v1's 9223372036854771712, v2's max) or one above the
    // host's memory: the host's memory, as dockerd shows it.
    uint64_t limit = m.limit();
    if (host_memory > 0 && (limit == 0 || limit > host_memory)) limit = host_memory;
    PutNonZero(memory, "limit", limit);
  }
  j["memory_stats"] = std::move(memory);
  j["name"] = "/" + name;
  j["id"] = id;
  return j;
}

}  // namespace berth::engine
