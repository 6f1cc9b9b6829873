// docker stats' numbers (cli/command/container/stats_helpers.go) and rows
// (formatter/stats.go), and docker events' line (system/events.go
// prettyPrintEvent).
#pragma once

#include <cstdint>
#include <string>

#include "cli/formatter.h"
#include "nlohmann/json.hpp"

namespace berth::cli {

struct StatsEntry {
  std::string id;    // full id
  std::string name;  // without the leading "/"
  double cpu_percent = 0;
  double memory = 0;  // usage without the page cache (inactive_file)
  double memory_limit = 0;
  double memory_percent = 0;
  double net_rx = 0, net_tx = 0;
  double block_read = 0, block_write = 0;
  uint64_t pids = 0;
};

// One GET /containers/{id}/stats?stream=false answer.
StatsEntry ComputeStats(const OrderedJson& stats);

// The row for the stats table: ID (12), Name, CPUPerc "0.52%", MemUsage
// "1.2MiB / 7.6GiB", MemPerc, NetIO "1.2kB / 0B", BlockIO, PIDs.
FormatRow StatsRow(const StatsEntry& s, bool trunc);
OrderedJson StatsHeader();
// "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}…" unless format is given.
std::string StatsFormat(const std::string& format);

// "2026-11-28T23:00:00.000000000Z container start <id> (image=…, name=…)\n"
// in zone tz (docker: the local zone).
std::string FormatEvent(const OrderedJson& event, absl::TimeZone tz = absl::LocalTimeZone());

}  // namespace berth::cli
