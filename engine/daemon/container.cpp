#include "engine/daemon/container.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/human_duration.h"

namespace berth::engine {
namespace {

constexpr const char* kZeroTime = "0001-01-01T00:00:00Z";

template <typename T>
T Get(const nlohmann::json& j, const char* key, T def) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  return it->get<T>();
}

}  // namespace

std::string FormatDockerTime(absl::Time t) {
  if (t == absl::InfinitePast()) return kZeroTime;
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

absl::Time ParseDockerTime(const std::string& text) {
  absl::Time t;
  if (text.empty() || text == kZeroTime ||
      !absl::ParseTime("%Y-%m-%dT%H:%M:%E*SZ", text, absl::UTCTimeZone(), &t, nullptr)) {
    return absl::InfinitePast();
  }
  return t;
}

std::string ContainerState::Status() const {
  if (removing) return "removing";
  if (dead) return "dead";
  if (restarting) return "restarting";
  if (paused) return "paused";
  if (running) return "running";
  if (started_at == absl::InfinitePast()) return "created";
  return "exited";
}

std::string HumanStatus(const ContainerState& state, absl::Time now) {
  if (state.running) {
    std::string up = absl::StrCat("Up ", HumanDuration(now - state.started_at));
    if (state.paused) absl::StrAppend(&up, " (Paused)");
    return up;
  }
  if (state.removing) return "Removal In Progress";
  if (state.dead) return "Dead";
  if (state.started_at == absl::InfinitePast()) return "Created";
  if (state.finished_at == absl::InfinitePast()) return "";
  return absl::StrCat("Exited (", state.exit_code, ") ", HumanDuration(now - state.finished_at),
                      " ago");
}

nlohmann::json Container::ToRecord() const {
  return {
      {"id", id},
      {"name", name},
      {"created", FormatDockerTime(created)},
      {"path", path},
      {"args", args},
      {"image", image},
      {"config", config},
      {"host_config", host_config},
      {"state",
       {{"running", state.running},
        {"paused", state.paused},
        {"oom_killed", state.oom_killed},
        {"dead", state.dead},
        {"pid", state.pid},
        {"exit_code", state.exit_code},
        {"error", state.error},
        {"started_at", FormatDockerTime(state.started_at)},
        {"finished_at", FormatDockerTime(state.finished_at)}}},
      {"restart_count", restart_count},
      {"log_path", log_path},
      {"hostname_path", hostname_path},
      {"hosts_path", hosts_path},
      {"resolv_conf_path", resolv_conf_path},
      {"has_been_started", has_been_started},
  };
}

absl::StatusOr<Container> Container::FromRecord(const nlohmann::json& record) {
  try {
    Container c;
    c.id = record.at("id").get<std::string>();
    c.name = record.at("name").get<std::string>();
    c.created = ParseDockerTime(record.at("created").get<std::string>());
    c.path = Get<std::string>(record, "path", "");
    c.args = Get<std::vector<std::string>>(record, "args", {});
    c.image = Get<std::string>(record, "image", "");
    c.config = record.value("config", nlohmann::json::object());
    c.host_config = record.value("host_config", nlohmann::json::object());
    const nlohmann::json& s = record.at("state");
    c.state.running = Get<bool>(s, "running", false);
    c.state.paused = Get<bool>(s, "paused", false);
    c.state.oom_killed = Get<bool>(s, "oom_killed", false);
    c.state.dead = Get<bool>(s, "dead", false);
    c.state.pid = Get<int>(s, "pid", 0);
    c.state.exit_code = Get<int>(s, "exit_code", 0);
    c.state.error = Get<std::string>(s, "error", "");
    c.state.started_at = ParseDockerTime(Get<std::string>(s, "started_at", ""));
    c.state.finished_at = ParseDockerTime(Get<std::string>(s, "finished_at", ""));
    c.restart_count = Get<int>(record, "restart_count", 0);
    c.log_path = Get<std::string>(record, "log_path", "");
    c.hostname_path = Get<std::string>(record, "hostname_path", "");
    c.hosts_path = Get<std::string>(record, "hosts_path", "");
    c.resolv_conf_path = Get<std::string>(record, "resolv_conf_path", "");
    c.has_been_started = Get<bool>(record, "has_been_started", false);
    return c;
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat("container record: ", e.what()));
  }
}

nlohmann::ordered_json Container::Inspect(const nlohmann::json& graph_driver_data) const {
  nlohmann::json network_mode = host_config.value("NetworkMode", "none");
  return {
      {"Id", id},
      {"Created", FormatDockerTime(created)},
      {"Path", path},
      {"Args", args},
      {"State",
       {{"Status", state.Status()},
        {"Running", state.running},
        {"Paused", state.paused},
        {"Restarting", state.restarting},
        {"OOMKilled", state.oom_killed},
        {"Dead", state.dead},
        {"Pid", state.pid},
        {"ExitCode", state.exit_code},
        {"Error", state.error},
        {"StartedAt", FormatDockerTime(state.started_at)},
        {"FinishedAt", FormatDockerTime(state.finished_at)}}},
      {"Image", image},
      {"ResolvConfPath", resolv_conf_path},
      {"HostnamePath", hostname_path},
      {"HostsPath", hosts_path},
      {"LogPath", log_path},
      {"Name", absl::StrCat("/", name)},
      {"RestartCount", restart_count},
      {"Driver", "overlay2"},
      {"Platform", "linux"},
      {"MountLabel", ""},
      {"ProcessLabel", ""},
      {"AppArmorProfile", ""},
      {"ExecIDs", nullptr},
      {"HostConfig", host_config},
      {"GraphDriver", {{"Name", "overlay2"}, {"Data", graph_driver_data}}},
      {"Mounts", nlohmann::json::array()},
      {"Config", config},
      {"NetworkSettings",
       {{"Bridge", ""},
        {"SandboxID", ""},
        {"HairpinMode", false},
        {"LinkLocalIPv6Address", ""},
        {"LinkLocalIPv6PrefixLen", 0},
        {"Ports", nlohmann::json::object()},
        {"SandboxKey", ""},
        {"Gateway", ""},
        {"IPAddress", ""},
        {"IPPrefixLen", 0},
        {"MacAddress", ""},
        {"Networks",
         {{network_mode.get<std::string>(),
           {{"NetworkID", ""},
            {"EndpointID", ""},
            {"Gateway", ""},
            {"IPAddress", ""},
            {"IPPrefixLen", 0},
            {"MacAddress", ""}}}}}}},
  };
}

nlohmann::ordered_json Container::Summary(const std::string& image_name) const {
  std::vector<std::string> command{path};
  command.insert(command.end(), args.begin(), args.end());
  return {
      {"Id", id},
      {"Names", {absl::StrCat("/", name)}},
      {"Image", image_name},
      {"ImageID", image},
      {"Command", absl::StrJoin(command, " ")},
      {"Created", absl::ToUnixSeconds(created)},
      {"Ports", nlohmann::json::array()},
      {"Labels", config.value("Labels", nlohmann::json::object())},
      {"State", state.Status()},
      {"Status", HumanStatus(state, absl::Now())},
      {"HostConfig", {{"NetworkMode", host_config.value("NetworkMode", "none")}}},
      {"NetworkSettings", {{"Networks", nlohmann::json::object()}}},
      {"Mounts", nlohmann::json::array()},
  };
}

}  // namespace berth::engine
