// Tasks.Stats: the shim's answer to containerd's task Stats (an Any holding
// io.containerd.cgroups.v1.Metrics) decoded into berth.runtime.v1's
// StatsResponse, plus the host's CPU time, which docker's CPU percentage
// divides by.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "berth/runtime/v1/tasks.pb.h"
#include "berth/wire/wkt.pb.h"

namespace berth::runtimed {

struct HostCpu {
  // user + nice + system + idle + iowait + irq + softirq of /proc/stat's
  // "cpu" line, in ns (dockerd's system_cpu_usage).
  uint64_t system_usage_ns = 0;
  // The "cpuN" lines.
  uint32_t online_cpus = 0;
};

// proc_stat: the text of /proc/stat; ticks_per_second: sysconf(_SC_CLK_TCK).
absl::StatusOr<HostCpu> ParseProcStat(absl::string_view proc_stat, int64_t ticks_per_second);
// The host's figures now.
absl::StatusOr<HostCpu> ReadHostCpu();

// Sets metrics_type_url and metrics from the shim's Any, and, for
// io.containerd.cgroups.v1.Metrics (with or without a "type.googleapis.com/"
// style prefix), cpu, memory, pids and blkio. DataLoss if that message does
// not parse; other types leave those fields alone.
absl::Status FillStatsFromMetrics(const berth::wire::Any& metrics,
                                  berth::runtime::v1::StatsResponse* out);

}  // namespace berth::runtimed
