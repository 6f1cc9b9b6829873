// GET /containers/{id}/stats: Docker's stats JSON (moby's api/types
// StatsJSON, in its field order) from berth-runtimed's Tasks.Stats samples.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/runtimed_client.h"

namespace berth::engine {

// One object: cur is the sample ("read", cpu_stats, memory_stats, ...), pre
// the one before it (precpu_stats and "preread"; zeros when null, as for
// one-shot and the first object of a stream). Both null: the zeroed object
// dockerd sends for a container that does not run. name without '/'.
// host_memory: the host's RAM, shown as the limit of a container without one
// (and any larger limit), as dockerd does. Fields dockerd omits when zero
// (omitempty) are omitted, so cgroup v2's samples (no max_usage, failcnt or
// percpu_usage) come out in docker's v2 shape.
nlohmann::ordered_json StatsJson(const std::string& id, const std::string& name,
                                 const api::StatsResponse* cur, const api::StatsResponse* pre,
                                 uint64_t host_memory);

// The host's RAM in bytes (/proc/meminfo MemTotal, as dockerd's machineMemory).
uint64_t HostMemoryBytes();
// The host's CPU time over all CPUs in ns, from the first line of /proc/stat
// (user+nice+system+idle+iowait+irq+softirq; dockerd's getSystemCPUUsage).
// 0 when it cannot be read.
uint64_t HostSystemCpuUsageNs();

}  // namespace berth::engine
