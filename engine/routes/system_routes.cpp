// /_ping, /version and /info.
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/build_info.h"
#include "engine/routes/routes.h"
#include "engine/version_probe.h"

namespace berth::engine {
namespace {

using http::Request;
using http::ResponseWriter;

std::string OsPrettyName() {
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view v = line;
    if (absl::ConsumePrefix(&v, "PRETTY_NAME=")) {
      return std::string(absl::StripSuffix(absl::StripPrefix(v, "\""), "\""));
    }
  }
  return "Linux";
}

std::string GoArch(const std::string& machine) {
  if (machine == "x86_64") return "amd64";
  if (machine == "aarch64") return "arm64";
  return machine;
}

}  // namespace

void AddSystemRoutes(http::Router& router, Daemon& daemon, RuntimedClient& runtimed) {
  auto ping = [](Request& r, ResponseWriter& w) {
    w.SetHeader("Cache-Control", "no-cache, no-store, must-revalidate");
    w.SetHeader("Pragma", "no-cache");
    w.Send(200, "text/plain; charset=utf-8", r.method == "HEAD" ? "" : "OK");
  };
  router.Add("GET", "/_ping", ping);
  router.Add("HEAD", "/_ping", ping);

  router.Add("GET", "/version", [&](Request&, ResponseWriter& w) {
    utsname u{};
    ::uname(&u);
    std::string arch = GoArch(u.machine);
    nlohmann::ordered_json components = nlohmann::ordered_json::array();
    components.push_back({{"Name", "Engine"},
                          {"Version", std::string(Version())},
                          {"Details",
                           {{"ApiVersion", kMaxApiVersion},
                            {"Arch", arch},
                            {"BuildTime", std::string(BuildDate())},
                            {"Experimental", "false"},
                            {"GitCommit", std::string(GitCommit())},
                            {"GoVersion", "n/a (C++)"},
                            {"KernelVersion", u.release},
                            {"MinAPIVersion", kMinApiVersion},
                            {"Os", "linux"}}}});
    for (const ComponentVersion& c : ProbeComponents(runtimed, daemon.options())) {
      components.push_back(
          {{"Name", c.name}, {"Version", c.version}, {"Details", {{"GitCommit", c.git_commit}}}});
    }
    w.SendJson(200, nlohmann::ordered_json{{"Platform", {{"Name", "berth"}}},
                                           {"Components", components},
                                           {"Version", std::string(Version())},
                                           {"ApiVersion", kMaxApiVersion},
                                           {"MinAPIVersion", kMinApiVersion},
                                           {"GitCommit", std::string(GitCommit())},
                                           {"GoVersion", "n/a (C++)"},
                                           {"Os", "linux"},
                                           {"Arch", arch},
                                           {"KernelVersion", u.release},
                                           {"BuildTime", std::string(BuildDate())}});
  });

  router.Add("GET", "/info", [&](Request&, ResponseWriter& w) {
    utsname u{};
    ::uname(&u);
    struct sysinfo si {};
    ::sysinfo(&si);
    Daemon::Counts counts = daemon.CountContainers();
    auto images = daemon.images().List(false);
    const bool cgroup2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
    w.SendJson(200,
               nlohmann::ordered_json{
                   {"ID", ""},
                   {"Containers", counts.total},
                   {"ContainersRunning", counts.running},
                   {"ContainersPaused", counts.paused},
                   {"ContainersStopped", counts.stopped},
                   {"Images", images.ok() ? images->size() : 0},
                   {"Driver", "overlay2"},
                   {"DriverStatus", nlohmann::json::array()},
                   {"Plugins",
                    {{"Volume", nlohmann::json::array()},
                     {"Network", {"host", "none"}},
                     {"Authorization", nullptr},
                     {"Log", {"json-file"}}}},
                   {"MemoryLimit", true},
                   {"SwapLimit", true},
                   {"CpuCfsPeriod", true},
                   {"CpuCfsQuota", true},
                   {"CPUShares", true},
                   {"CPUSet", true},
                   {"PidsLimit", true},
                   {"IPv4Forwarding", false},
                   {"Debug", false},
                   {"OomKillDisable", !cgroup2},
                   {"LoggingDriver", "json-file"},
                   {"CgroupDriver", "cgroupfs"},
                   {"CgroupVersion", cgroup2 ? "2" : "1"},
                   {"KernelVersion", u.release},
                   {"OperatingSystem", OsPrettyName()},
                   {"OSType", "linux"},
                   {"Architecture", u.machine},
                   {"NCPU", ::sysconf(_SC_NPROCESSORS_ONLN)},
                   {"MemTotal", static_cast<int64_t>(si.totalram) * si.mem_unit},
                   {"DockerRootDir", daemon.options().data_root},
                   {"Name", u.nodename},
                   {"Labels", nlohmann::json::array()},
                   {"ExperimentalBuild", false},
                   {"ServerVersion", std::string(Version())},
                   {"Runtimes", {{daemon.options().runtime, {{"path", daemon.options().runtime}}}}},
                   {"DefaultRuntime", daemon.options().runtime},
                   {"Swarm",
                    {{"NodeID", ""},
                     {"NodeAddr", ""},
                     {"LocalNodeState", "inactive"},
                     {"ControlAvailable", false},
                     {"Error", ""},
                     {"RemoteManagers", nullptr}}},
                   {"LiveRestoreEnabled", true},
                   {"Isolation", ""},
                   {"InitBinary", "docker-init"},
                   {"SecurityOptions", {"name=seccomp,profile=builtin"}},
                   {"RegistryConfig",
                    {{"AllowNondistributableArtifactsCIDRs", nlohmann::json::array()},
                     {"AllowNondistributableArtifactsHostnames", nlohmann::json::array()},
                     {"InsecureRegistryCIDRs", {"127.0.0.0/8"}},
                     {"IndexConfigs", nlohmann::json::object()},
                     {"Mirrors", nlohmann::json::array()}}},
                   {"Warnings", nlohmann::json::array()}});
  });
}

}  // namespace berth::engine
