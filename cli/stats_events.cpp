#include "cli/stats_events.h"

#include <map>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "cli/format/units.h"

namespace berth::cli {

namespace {

double Num(const OrderedJson& j, std::initializer_list<const char*> path) {
  const OrderedJson* cur = &j;
  for (const char* k : path) {
    if (!cur->is_object() || !cur->contains(k)) return 0;
    cur = &(*cur)[k];
  }
  return cur->is_number() ? cur->get<double>() : 0;
}

std::string Str(const OrderedJson& j, const char* key) {
  if (j.is_object() && j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
  return "";
}

}  // namespace

StatsEntry ComputeStats(const OrderedJson& v) {
  StatsEntry s;
  s.id = Str(v, "id");
  s.name = Str(v, "name");
  if (!s.name.empty() && s.name[0] == '/') s.name.erase(0, 1);

  // calculateCPUPercentUnix
  double cpu_delta = Num(v, {"cpu_stats", "cpu_usage", "total_usage"}) -
                     Num(v, {"precpu_stats", "cpu_usage", "total_usage"});
  double system_delta =
      Num(v, {"cpu_stats", "system_cpu_usage"}) - Num(v, {"precpu_stats", "system_cpu_usage"});
  double online = Num(v, {"cpu_stats", "online_cpus"});
  if (online == 0) {
    const auto& cs = v.value("cpu_stats", OrderedJson::object());
    if (cs.contains("cpu_usage") && cs["cpu_usage"].contains("percpu_usage") &&
        cs["cpu_usage"]["percpu_usage"].is_array()) {
      online = static_cast<double>(cs["cpu_usage"]["percpu_usage"].size());
    }
  }
  if (system_delta > 0 && cpu_delta > 0) s.cpu_percent = cpu_delta / system_delta * online * 100.0;

  // calculateMemUsageUnixNoCache: cgroup v1's total_inactive_file, v2's inactive_file.
  double usage = Num(v, {"memory_stats", "usage"});
  const OrderedJson* ms = nullptr;
  if (v.contains("memory_stats") && v["memory_stats"].contains("stats"))
    ms = &v["memory_stats"]["stats"];
  s.memory = usage;
  if (ms != nullptr && ms->contains("total_inactive_file") &&
      (*ms)["total_inactive_file"].get<double>() < usage) {
    s.memory = usage - (*ms)["total_inactive_file"].get<double>();
  } else if (ms != nullptr && ms->contains("inactive_file") &&
             (*ms)["inactive_file"].get<double>() < usage) {
    s.memory = usage - (*ms)["inactive_file"].get<double>();
  }
  s.memory_limit = Num(v, {"memory_stats", "limit"});
  if (s.memory_limit != 0) s.memory_percent = s.memory / s.memory_limit * 100.0;

  if (v.contains("networks") && v["networks"].is_object()) {
    for (const auto& [name, n] : v["networks"].items()) {
      s.net_rx += Num(n, {"rx_bytes"});
      s.net_tx += Num(n, {"tx_bytes"});
    }
  }
  if (v.contains("blkio_stats") && v["blkio_stats"].contains("io_service_bytes_recursive") &&
      v["blkio_stats"]["io_service_bytes_recursive"].is_array()) {
    for (const auto& e : v["blkio_stats"]["io_service_bytes_recursive"]) {
      std::string op = Str(e, "op");
      if (op.empty()) continue;
      if (op[0] == 'r' || op[0] == 'R') s.block_read += Num(e, {"value"});
      if (op[0] == 'w' || op[0] == 'W') s.block_write += Num(e, {"value"});
    }
  }
  s.pids = static_cast<uint64_t>(Num(v, {"pids_stats", "current"}));
  return s;
}

FormatRow StatsRow(const StatsEntry& s, bool trunc) {
  FormatRow row;
  std::string id = trunc && s.id.size() > 12 ? s.id.substr(0, 12) : s.id;
  row.fields = {
      {"BlockIO",
       HumanSizeWithPrecision(s.block_read, 3) + " / " + HumanSizeWithPrecision(s.block_write, 3)},
      {"CPUPerc", absl::StrFormat("%.2f%%", s.cpu_percent)},
      {"Container", id},
      {"ID", id},
      {"MemPerc", absl::StrFormat("%.2f%%", s.memory_percent)},
      {"MemUsage", BytesSize(s.memory) + " / " + BytesSize(s.memory_limit)},
      {"Name", s.name.empty() ? "--" : s.name},
      {"NetIO", HumanSizeWithPrecision(s.net_rx, 3) + " / " + HumanSizeWithPrecision(s.net_tx, 3)},
      {"PIDs", std::to_string(s.pids)},
  };
  row.labels = OrderedJson::object();
  return row;
}

OrderedJson StatsHeader() {
  return {{"BlockIO", "BLOCK I/O"}, {"CPUPerc", "CPU %"}, {"Container", "CONTAINER"},
          {"ID", "CONTAINER ID"},   {"MemPerc", "MEM %"}, {"MemUsage", "MEM USAGE / LIMIT"},
          {"Name", "NAME"},         {"NetIO", "NET I/O"}, {"PIDs", "PIDS"}};
}

std::string StatsFormat(const std::string& format) {
  if (!format.empty()) return format;
  return "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{."
         "BlockIO}}\t{{.PIDs}}";
}

std::string FormatEvent(const OrderedJson& e, absl::TimeZone tz) {
  std::string out;
  int64_t nano =
      e.contains("timeNano") && e["timeNano"].is_number() ? e["timeNano"].get<int64_t>() : 0;
  int64_t sec = e.contains("time") && e["time"].is_number() ? e["time"].get<int64_t>() : 0;
  // jsonmessage.RFC3339NanoFixed: "2006-01-02T15:04:05.000000000Z07:00".
  constexpr const char* kFixed = "%Y-%m-%dT%H:%M:%E9S%Ez";
  auto fmt = [&](absl::Time t) {
    std::string s = absl::FormatTime(kFixed, t, tz);
    if (s.size() > 6 && s.compare(s.size() - 6, 6, "+00:00") == 0) {
      s.resize(s.size() - 6);
      s += "Z";
    }
    return s;
  };
  if (nano != 0) {
    out += fmt(absl::FromUnixNanos(nano)) + " ";
  } else if (sec != 0) {
    out += fmt(absl::FromUnixSeconds(sec)) + " ";
  }
  std::string type = Str(e, "Type");
  std::string action = Str(e, "Action");
  std::string id;
  OrderedJson attrs = OrderedJson::object();
  if (e.contains("Actor") && e["Actor"].is_object()) {
    id = Str(e["Actor"], "ID");
    if (e["Actor"].contains("Attributes") && e["Actor"]["Attributes"].is_object())
      attrs = e["Actor"]["Attributes"];
  }
  out += type + " " + action + " " + id;
  if (!attrs.empty()) {
    std::map<std::string, std::string> sorted;
    for (const auto& [k, v] : attrs.items())
      sorted[k] = v.is_string() ? v.get<std::string>() : v.dump();
    std::vector<std::string> parts;
    for (const auto& [k, v] : sorted) parts.push_back(k + "=" + v);
    out += " (" + absl::StrJoin(parts, ", ") + ")";
  }
  out += "\n";
  return out;
}

}  // namespace berth::cli
