#include "highlevel-runtime/tasks/task_stats.h"

#include <unistd.h>

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fd_util.h"
#include "common/status.h"
#include "containerd/cgroups/v1/metrics.pb.h"

namespace berth::runtimed {
namespace {

namespace api = berth::runtime::v1;
namespace v1 = io::containerd::cgroups::v1;

constexpr absl::string_view kMetricsV1 = "io.containerd.cgroups.v1.Metrics";

void CopyBlkio(const google::protobuf::RepeatedPtrField<v1::BlkIOEntry>& in,
               google::protobuf::RepeatedPtrField<api::BlkioEntry>* out) {
  for (const v1::BlkIOEntry& e : in) {
    api::BlkioEntry* entry = out->Add();
    entry->set_major(e.major());
    entry->set_minor(e.minor());
    entry->set_op(e.op());
    entry->set_value(e.value());
  }
}

}  // namespace

absl::StatusOr<HostCpu> ParseProcStat(absl::string_view proc_stat, int64_t ticks_per_second) {
  if (ticks_per_second <= 0) {
    return absl::InvalidArgumentError("clock ticks per second must be positive");
  }
  HostCpu host;
  bool found = false;
  for (absl::string_view line : absl::StrSplit(proc_stat, '\n')) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.empty()) continue;
    if (fields[0] == "cpu") {
      if (fields.size() < 8) {
        return absl::DataLossError(absl::StrCat("/proc/stat: cpu line has ", fields.size() - 1,
                                                " fields, want 7 or more"));
      }
      uint64_t ticks = 0;
      for (size_t i = 1; i < 8; ++i) {
        uint64_t v = 0;
        if (!absl::SimpleAtoi(fields[i], &v)) {
          return absl::DataLossError(absl::StrCat("/proc/stat: bad cpu field \"", fields[i], "\""));
        }
        ticks += v;
      }
      const uint64_t hz = static_cast<uint64_t>(ticks_per_second);
      // ticks * 1e9 / hz without overflowing for a long-running big host.
      host.system_usage_ns = ticks / hz * 1'000'000'000 + ticks % hz * 1'000'000'000 / hz;
      found = true;
    } else if (fields[0].size() > 3 && fields[0].substr(0, 3) == "cpu") {
      ++host.online_cpus;
    }
  }
  if (!found) return absl::DataLossError("/proc/stat: no cpu line");
  return host;
}

absl::StatusOr<HostCpu> ReadHostCpu() {
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFileToString("/proc/stat"));
  return ParseProcStat(text, ::sysconf(_SC_CLK_TCK));
}

absl::Status FillStatsFromMetrics(const berth::wire::Any& metrics, api::StatsResponse* out) {
  out->set_metrics_type_url(metrics.type_url());
  out->set_metrics(metrics.value());
  absl::string_view type = metrics.type_url();
  if (size_t slash = type.rfind('/'); slash != absl::string_view::npos) {
    type.remove_prefix(slash + 1);
  }
  if (type != kMetricsV1) return absl::OkStatus();
  v1::Metrics m;
  if (!m.ParseFromString(metrics.value())) {
    return absl::DataLossError(absl::StrCat("shim: malformed ", kMetricsV1));
  }

  api::CpuStats* cpu = out->mutable_cpu();
  cpu->set_total_usage_ns(m.cpu().usage().total());
  cpu->set_kernel_usage_ns(m.cpu().usage().kernel());
  cpu->set_user_usage_ns(m.cpu().usage().user());
  for (uint64_t v : m.cpu().usage().per_cpu()) cpu->add_per_cpu_usage_ns(v);
  cpu->set_throttling_periods(m.cpu().throttling().periods());
  cpu->set_throttled_periods(m.cpu().throttling().throttled_periods());
  cpu->set_throttled_time_ns(m.cpu().throttling().throttled_time());

  const v1::MemoryStat& mem = m.memory();
  api::MemoryStats* memory = out->mutable_memory();
  memory->set_usage(mem.usage().usage());
  memory->set_max_usage(mem.usage().max());
  memory->set_limit(mem.usage().limit());
  memory->set_failcnt(mem.usage().failcnt());
  memory->set_cache(mem.cache());
  memory->set_rss(mem.rss());
  const std::pair<const char*, uint64_t> stats[] = {
      {"cache", mem.cache()},
      {"rss", mem.rss()},
      {"rss_huge", mem.rss_huge()},
      {"mapped_file", mem.mapped_file()},
      {"dirty", mem.dirty()},
      {"writeback", mem.writeback()},
      {"pgpgin", mem.pg_pg_in()},
      {"pgpgout", mem.pg_pg_out()},
      {"pgfault", mem.pg_fault()},
      {"pgmajfault", mem.pg_maj_fault()},
      {"inactive_anon", mem.inactive_anon()},
      {"active_anon", mem.active_anon()},
      {"inactive_file", mem.inactive_file()},
      {"active_file", mem.active_file()},
      {"unevictable", mem.unevictable()},
      {"hierarchical_memory_limit", mem.hierarchical_memory_limit()},
      {"hierarchical_memsw_limit", mem.hierarchical_swap_limit()},
      {"total_cache", mem.total_cache()},
      {"total_rss", mem.total_rss()},
      {"total_rss_huge", mem.total_rss_huge()},
      {"total_mapped_file", mem.total_mapped_file()},
      {"total_dirty", mem.total_dirty()},
      {"total_writeback", mem.total_writeback()},
      {"total_pgpgin", mem.total_pg_pg_in()},
      {"total_pgpgout", mem.total_pg_pg_out()},
      {"total_pgfault", mem.total_pg_fault()},
      {"total_pgmajfault", mem.total_pg_maj_fault()},
      {"total_inactive_anon", mem.total_inactive_anon()},
      {"total_active_anon", mem.total_active_anon()},
      {"total_inactive_file", mem.total_inactive_file()},
      {"total_active_file", mem.total_active_file()},
      {"total_unevictable", mem.total_unevictable()},
  };
  auto* map = memory->mutable_stats();
  for (const auto& [key, value] : stats) (*map)[key] = value;

  out->mutable_pids()->set_current(m.pids().current());
  out->mutable_pids()->set_limit(m.pids().limit());
  CopyBlkio(m.blkio().io_service_bytes_recursive(),
            out->mutable_blkio()->mutable_io_service_bytes_recursive());
  CopyBlkio(m.blkio().io_serviced_recursive(),
            out->mutable_blkio()->mutable_io_serviced_recursive());
  return absl::OkStatus();
}

}  // namespace berth::runtimed
