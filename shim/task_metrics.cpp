#include "shim/task_metrics.h"

#include "common/json.h"
#include "common/status.h"

namespace berth::shim {
namespace {

namespace v1 = io::containerd::cgroups::v1;

uint64_t U64(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return 0;
  if (it->is_number_float()) return static_cast<uint64_t>(it->get<double>());
  return it->get<uint64_t>();
}

const Json& Field(const Json& j, const char* key) {
  static const Json kEmpty = Json::object();
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : kEmpty;
}

void FillEntry(const Json& j, v1::MemoryEntry* e) {
  e->set_limit(U64(j, "limit"));
  e->set_usage(U64(j, "usage"));
  e->set_max(U64(j, "max"));
  e->set_failcnt(U64(j, "failcnt"));
}

}  // namespace

absl::StatusOr<v1::Metrics> MetricsFromRuntimeStats(const std::string& events_json) {
  BERTH_ASSIGN_OR_RETURN(Json event, ParseJson(events_json, "runtime events --stats"));
  const Json& data = Field(event, "data");
  v1::Metrics m;

  const Json& pids = Field(data, "pids");
  m.mutable_pids()->set_current(U64(pids, "current"));
  m.mutable_pids()->set_limit(U64(pids, "limit"));

  const Json& cpu = Field(data, "cpu");
  const Json& usage = Field(cpu, "usage");
  auto* u = m.mutable_cpu()->mutable_usage();
  u->set_total(U64(usage, "total"));
  u->set_kernel(U64(usage, "kernel"));
  u->set_user(U64(usage, "user"));
  if (auto it = usage.find("percpu"); it != usage.end() && it->is_array()) {
    for (const Json& v : *it) u->add_per_cpu(v.is_number() ? v.get<uint64_t>() : 0);
  }
  const Json& throttling = Field(cpu, "throttling");
  m.mutable_cpu()->mutable_throttling()->set_periods(U64(throttling, "periods"));
  m.mutable_cpu()->mutable_throttling()->set_throttled_periods(U64(throttling, "throttledPeriods"));
  m.mutable_cpu()->mutable_throttling()->set_throttled_time(U64(throttling, "throttledTime"));

  const Json& memory = Field(data, "memory");
  auto* mem = m.mutable_memory();
  FillEntry(Field(memory, "usage"), mem->mutable_usage());
  FillEntry(Field(memory, "swap"), mem->mutable_swap());
  FillEntry(Field(memory, "kernel"), mem->mutable_kernel());
  FillEntry(Field(memory, "kernelTCP"), mem->mutable_kernel_tcp());
  const Json& raw = Field(memory, "raw");
  mem->set_cache(U64(raw, "cache"));
  mem->set_rss(U64(raw, "rss"));
  mem->set_rss_huge(U64(raw, "rss_huge"));
  mem->set_mapped_file(U64(raw, "mapped_file"));
  mem->set_dirty(U64(raw, "dirty"));
  mem->set_writeback(U64(raw, "writeback"));
  mem->set_pg_pg_in(U64(raw, "pgpgin"));
  mem->set_pg_pg_out(U64(raw, "pgpgout"));
  mem->set_pg_fault(U64(raw, "pgfault"));
  mem->set_pg_maj_fault(U64(raw, "pgmajfault"));
  mem->set_inactive_anon(U64(raw, "inactive_anon"));
  mem->set_active_anon(U64(raw, "active_anon"));
  mem->set_inactive_file(U64(raw, "inactive_file"));
  mem->set_active_file(U64(raw, "active_file"));
  mem->set_unevictable(U64(raw, "unevictable"));
  mem->set_hierarchical_memory_limit(U64(raw, "hierarchical_memory_limit"));
  mem->set_hierarchical_swap_limit(U64(raw, "hierarchical_memsw_limit"));
  mem->set_total_cache(U64(raw, "total_cache"));
  mem->set_total_rss(U64(raw, "total_rss"));
  mem->set_total_rss_huge(U64(raw, "total_rss_huge"));
  mem->set_total_mapped_file(U64(raw, "total_mapped_file"));
  mem->set_total_dirty(U64(raw, "total_dirty"));
  mem->set_total_writeback(U64(raw, "total_writeback"));
  mem->set_total_pg_pg_in(U64(raw, "total_pgpgin"));
  mem->set_total_pg_pg_out(U64(raw, "total_pgpgout"));
  mem->set_total_pg_fault(U64(raw, "total_pgfault"));
  mem->set_total_pg_maj_fault(U64(raw, "total_pgmajfault"));
  mem->set_total_inactive_anon(U64(raw, "total_inactive_anon"));
  mem->set_total_active_anon(U64(raw, "total_active_anon"));
  mem->set_total_inactive_file(U64(raw, "total_inactive_file"));
  mem->set_total_active_file(U64(raw, "total_active_file"));
  mem->set_total_unevictable(U64(raw, "total_unevictable"));

  const Json& blkio = Field(data, "blkio");
  const std::pair<const char*, google::protobuf::RepeatedPtrField<v1::BlkIOEntry>*> lists[] = {
      {"ioServiceBytesRecursive", m.mutable_blkio()->mutable_io_service_bytes_recursive()},
      {"ioServicedRecursive", m.mutable_blkio()->mutable_io_serviced_recursive()}};
  for (const auto& [key, out] : lists) {
    auto it = blkio.find(key);
    if (it == blkio.end() || !it->is_array()) continue;
    for (const Json& e : *it) {
      if (!e.is_object()) continue;
      v1::BlkIOEntry* entry = out->Add();
      entry->set_op(e.value("op", ""));
      entry->set_major(U64(e, "major"));
      entry->set_minor(U64(e, "minor"));
      entry->set_value(U64(e, "value"));
    }
  }
  return m;
}

}  // namespace berth::shim
