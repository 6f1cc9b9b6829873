// BuildContainerSpec: the config.json dockerd would produce.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "absl/strings/match.h"
#include "common/oci/runtime_spec.h"
#include "engine/spec/container_spec.h"

namespace spec = berth::engine::spec;
using berth::Json;

namespace {

constexpr char kId[] = "4f2b8ac1e35d0c7b9a6e1f3d2c4b5a69788c9d0e1f2a3b4c5d6e7f8091a2b3c4";

// A described host: v1 cgroups, amd64, a recent kernel, an empty /dev.
struct TestHost {
  TestHost() {
    char tmpl[] = "/tmp/berth-spec-dev-XXXXXX";
    dev_dir = ::mkdtemp(tmpl);
    host.kernel_release = "6.1.0-18-amd64";
    host.arch = "amd64";
    host.last_cap = 40;
    host.hostname = "buildhost";
    host.dev_dir = dev_dir;
  }
  ~TestHost() { std::filesystem::remove_all(dev_dir); }
  std::string dev_dir;
  spec::HostInfo host;
};

spec::SpecInput Input(Json host_config = Json::object(), Json config = Json::object()) {
  spec::SpecInput in;
  in.id = kId;
  if (!config.contains("Cmd")) config["Cmd"] = {"sh"};
  in.config = std::move(config);
  in.host_config = std::move(host_config);
  in.cgroups_path = std::string("/berth/") + kId;
  return in;
}

Json Build(const spec::SpecInput& in, const spec::HostInfo& host) {
  auto built = spec::BuildContainerSpec(in, host);
  INFO(built.status().ToString());
  REQUIRE(built.ok());
  // Every spec must be one our runtime's parser takes.
  auto parsed = berth::oci::ParseSpec(berth::DumpJson(*built), "config.json");
  INFO(parsed.status().ToString());
  REQUIRE(parsed.ok());
  return *built;
}

absl::Status BuildError(const spec::SpecInput& in, const spec::HostInfo& host) {
  auto built = spec::BuildContainerSpec(in, host);
  REQUIRE_FALSE(built.ok());
  return built.status();
}

const Json* MountAt(const Json& spec, const std::string& destination) {
  for (const Json& mount : spec["mounts"]) {
    if (mount["destination"] == destination) return &mount;
  }
  return nullptr;
}

std::vector<std::string> Destinations(const Json& spec) {
  std::vector<std::string> out;
  for (const Json& mount : spec["mounts"]) out.push_back(mount["destination"]);
  return out;
}

std::vector<std::string> NamespaceTypes(const Json& spec) {
  std::vector<std::string> out;
  for (const Json& ns : spec["linux"]["namespaces"]) out.push_back(ns["type"]);
  return out;
}

bool HasOption(const Json& mount, const std::string& option) {
  return std::find(mount["options"].begin(), mount["options"].end(), option) !=
         mount["options"].end();
}

}  // namespace

TEST_CASE("spec: a default container is Docker's default spec") {
  TestHost t;
  spec::SpecInput in = Input({{"NetworkMode", "none"}});
  in.user = {0, 0, {10}};
  in.resolv_conf_path = "/var/lib/berth/containers/x/resolv.conf";
  in.hostname_path = "/var/lib/berth/containers/x/hostname";
  in.hosts_path = "/var/lib/berth/containers/x/hosts";
  Json s = Build(in, t.host);

  CHECK(s["ociVersion"] == "1.0.2-dev");
  CHECK(s["root"] == Json({{"path", "rootfs"}, {"readonly", false}}));
  CHECK(s["hostname"] == "4f2b8ac1e35d");
  const Json& process = s["process"];
  CHECK(process["terminal"] == false);
  CHECK(process["args"] == Json({"sh"}));
  CHECK(process["cwd"] == "/");
  CHECK(process["env"] == Json({"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                "HOSTNAME=4f2b8ac1e35d"}));
  CHECK(process["user"] == Json({{"uid", 0}, {"gid", 0}, {"additionalGids", {0, 10}}}));
  CHECK(process["oomScoreAdj"] == 0);
  CHECK_FALSE(process.contains("noNewPrivileges"));
  CHECK_FALSE(process.contains("apparmorProfile"));
  const Json caps = spec::DefaultCapabilities();
  CHECK(process["capabilities"] ==
        Json({{"bounding", caps}, {"effective", caps}, {"permitted", caps}}));

  CHECK(Destinations(s) == std::vector<std::string>{
                               "/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue",
                               "/dev/shm", "/etc/resolv.conf", "/etc/hostname", "/etc/hosts"});
  CHECK((*MountAt(s, "/dev/shm"))["options"] ==
        Json({"nosuid", "noexec", "nodev", "mode=1777", "size=67108864"}));
  CHECK((*MountAt(s, "/sys"))["options"] == Json({"nosuid", "noexec", "nodev", "ro"}));
  CHECK(*MountAt(s, "/etc/hosts") == Json({{"destination", "/etc/hosts"},
                                           {"type", "bind"},
                                           {"source", "/var/lib/berth/containers/x/hosts"},
                                           {"options", {"rbind", "rprivate"}}}));

  const Json& linux = s["linux"];
  CHECK(NamespaceTypes(s) == std::vector<std::string>{"mount", "network", "uts", "pid", "ipc"});
  CHECK(linux["cgroupsPath"] == std::string("/berth/") + kId);
  CHECK(linux["maskedPaths"] == Json(spec::DefaultMaskedPaths()));
  CHECK(linux["readonlyPaths"] == Json(spec::DefaultReadonlyPaths()));
  CHECK(linux["maskedPaths"].size() == 10);
  CHECK(linux["resources"]["devices"] == spec::DefaultDeviceCgroupRules());
  CHECK(linux["resources"]["devices"][0] == Json({{"allow", false}, {"access", "rwm"}}));
  CHECK(linux["resources"]["devices"][7] ==
        Json({{"allow", false}, {"type", "c"}, {"major", 10}, {"minor", 229}, {"access", "rwm"}}));
  CHECK(linux["resources"]["memory"] == Json::object());
  CHECK(linux["resources"]["cpu"] == Json({{"shares", 0}}));
  CHECK_FALSE(linux["resources"].contains("pids"));
  CHECK_FALSE(linux.contains("devices"));
  CHECK(linux["sysctl"] == Json({{"net.ipv4.ip_unprivileged_port_start", "0"},
                                 {"net.ipv4.ping_group_range", "0 2147483647"}}));
  CHECK(linux["seccomp"]["defaultAction"] == "SCMP_ACT_ERRNO");
  CHECK(linux["seccomp"]["architectures"][0] == "SCMP_ARCH_X86_64");
}

TEST_CASE("spec: cgroup namespace follows the host's cgroup version and CgroupnsMode") {
  TestHost t;
  CHECK(NamespaceTypes(Build(Input(), t.host)).size() == 5);
  t.host.cgroup2 = true;
  CHECK(NamespaceTypes(Build(Input(), t.host)).back() == "cgroup");
  CHECK(NamespaceTypes(Build(Input({{"CgroupnsMode", "host"}}), t.host)).back() == "ipc");
  t.host.cgroup2 = false;
  CHECK(NamespaceTypes(Build(Input({{"CgroupnsMode", "private"}}), t.host)).back() == "cgroup");
  CHECK(BuildError(Input({{"CgroupnsMode", "shared"}}), t.host).message() ==
        "invalid cgroup namespace mode: shared");
}

TEST_CASE("spec: network modes") {
  TestHost t;
  for (const char* mode : {"none", "bridge", "default", ""}) {
    CAPTURE(mode);
    Json s = Build(Input({{"NetworkMode", mode}}), t.host);
    CHECK(NamespaceTypes(s)[1] == "network");
  }
  spec::SpecInput host_mode = Input({{"NetworkMode", "host"}});
  Json s = Build(host_mode, t.host);
  CHECK(NamespaceTypes(s) == std::vector<std::string>{"mount", "uts", "pid", "ipc"});
  CHECK(s["hostname"] == "buildhost");  // dockerd: the host's name, in its own UTS namespace
  CHECK(s["process"]["env"][1] == "HOSTNAME=buildhost");
  CHECK(s["linux"]["sysctl"] == Json::object());  // no network sysctls on the host's namespace
  CHECK(spec::DefaultHostname(kId, "host", t.host) == "buildhost");
  CHECK(spec::DefaultHostname(kId, "none", t.host) == "4f2b8ac1e35d");

  CHECK(BuildError(Input({{"NetworkMode", "container:abc"}}), t.host).code() ==
        absl::StatusCode::kUnimplemented);
}

TEST_CASE("spec: IPC, PID and UTS modes") {
  TestHost t;
  Json s = Build(Input({{"IpcMode", "host"}, {"PidMode", "host"}, {"UTSMode", "host"}}), t.host);
  CHECK(NamespaceTypes(s) == std::vector<std::string>{"mount", "network"});
  CHECK_FALSE(s.contains("hostname"));
  Json no_ipc = Build(Input({{"IpcMode", "none"}}), t.host);
  CHECK(MountAt(no_ipc, "/dev/shm") == nullptr);
  CHECK(BuildError(Input({{"IpcMode", "bogus"}}), t.host).message() == "invalid IPC mode: bogus");
  CHECK(BuildError(Input({{"PidMode", "container:x"}}), t.host).code() ==
        absl::StatusCode::kUnimplemented);
}

TEST_CASE("spec: privileged") {
  TestHost t;
  Json s = Build(Input({{"Privileged", true}, {"CapDrop", {"ALL"}}}), t.host);
  CHECK(s["process"]["capabilities"]["bounding"].size() == 41);
  CHECK_FALSE(s["linux"].contains("seccomp"));
  CHECK_FALSE(s["linux"].contains("maskedPaths"));
  CHECK_FALSE(s["linux"].contains("readonlyPaths"));
  CHECK(s["linux"]["resources"]["devices"] == Json::array({{{"allow", true}, {"access", "rwm"}}}));
  CHECK_FALSE(HasOption(*MountAt(s, "/sys"), "ro"));
  CHECK_FALSE(HasOption(*MountAt(s, "/sys/fs/cgroup"), "ro"));
  CHECK_FALSE(s["linux"].contains("devices"));  // t.host's /dev is empty

  // The host's device nodes (when there are any) are given at their paths.
  t.host.dev_dir = "/dev";
  Json real = Build(Input({{"Privileged", true}}), t.host);
  if (::access("/dev/null", F_OK) == 0) {
    bool has_null = false;
    for (const Json& device : real["linux"]["devices"]) {
      if (device["path"] == "/dev/null") {
        has_null = true;
        CHECK(device["type"] == "c");
        CHECK(device["major"] == 1);
        CHECK(device["minor"] == 3);
      }
      CHECK(device["path"] != "/dev/console");
    }
    CHECK(has_null);
  }
}

TEST_CASE("spec: capabilities and security options") {
  TestHost t;
  Json s = Build(
      Input({{"CapAdd", {"SYS_ADMIN"}},
             {"CapDrop", {"net_raw"}},
             {"SecurityOpt", {"no-new-privileges:true", "label=disable", "apparmor=unconfined"}}}),
      t.host);
  const Json& caps = s["process"]["capabilities"]["effective"];
  CHECK(std::find(caps.begin(), caps.end(), "CAP_SYS_ADMIN") != caps.end());
  CHECK(std::find(caps.begin(), caps.end(), "CAP_NET_RAW") == caps.end());
  CHECK(s["process"]["noNewPrivileges"] == true);
  // The profile follows the caps: mount is allowed now.
  bool mount_allowed = false;
  for (const Json& rule : s["linux"]["seccomp"]["syscalls"]) {
    for (const Json& name : rule["names"]) mount_allowed |= name == "mount";
  }
  CHECK(mount_allowed);

  CHECK_FALSE(
      Build(Input({{"SecurityOpt", {"no-new-privileges=false"}}}), t.host)["process"].contains(
          "noNewPrivileges"));
  CHECK(Build(Input({{"SecurityOpt", {"no-new-privileges"}}}),
              t.host)["process"]["noNewPrivileges"] == true);
  CHECK_FALSE(
      Build(Input({{"SecurityOpt", {"seccomp=unconfined"}}}), t.host)["linux"].contains("seccomp"));
  CHECK(Build(Input({{"SecurityOpt", {"seccomp=builtin"}}}),
              t.host)["linux"]["seccomp"]["defaultAction"] == "SCMP_ACT_ERRNO");
  std::string profile =
      R"(seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]})";
  Json custom = Build(Input({{"SecurityOpt", {profile}}}), t.host)["linux"]["seccomp"];
  CHECK(custom == Json({{"defaultAction", "SCMP_ACT_ALLOW"},
                        {"syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"}}}}}));

  CHECK(BuildError(Input({{"CapAdd", {"CAP_FOO"}}}), t.host).message() ==
        "unknown capability: \"CAP_FOO\"");
  CHECK(BuildError(Input({{"SecurityOpt", {"bogus"}}}), t.host).message() ==
        "invalid --security-opt 1: \"bogus\"");
  CHECK(BuildError(Input({{"SecurityOpt", {"foo=bar"}}}), t.host).message() ==
        "invalid --security-opt 2: \"foo=bar\"");
  CHECK(BuildError(Input({{"SecurityOpt", {"no-new-privileges=maybe"}}}), t.host).message() ==
        "invalid --security-opt 2: \"no-new-privileges=maybe\"");
  CHECK(BuildError(Input({{"SecurityOpt", {"seccomp={"}}}), t.host)
            .message()
            .find("Decoding seccomp profile failed") == 0);
}

TEST_CASE("spec: a non-root user gets only the bounding set") {
  TestHost t;
  spec::SpecInput in = Input();
  in.user = {1000, 1000, {2000}};
  Json s = Build(in, t.host);
  CHECK(s["process"]["user"] ==
        Json({{"uid", 1000}, {"gid", 1000}, {"additionalGids", {1000, 2000}}}));
  CHECK(s["process"]["capabilities"] == Json({{"bounding", spec::DefaultCapabilities()}}));
}

TEST_CASE("spec: process from Config") {
  TestHost t;
  Json config = {{"Entrypoint", {"/entry"}},
                 {"Cmd", {"a", "b"}},
                 {"Env", {"PATH=/bin", "HOSTNAME", "FOO=bar"}},
                 {"WorkingDir", "/srv/app/"},
                 {"Tty", true},
                 {"Hostname", "web"},
                 {"Domainname", "example.com"}};
  Json s = Build(Input({{"ConsoleSize", {40, 120}}}, config), t.host);
  CHECK(s["process"]["args"] == Json({"/entry", "a", "b"}));
  // The image's PATH replaces the default; a bare HOSTNAME unsets it.
  CHECK(s["process"]["env"] == Json({"PATH=/bin", "TERM=xterm", "FOO=bar"}));
  CHECK(s["process"]["cwd"] == "/srv/app");
  CHECK(s["process"]["terminal"] == true);
  CHECK(s["process"]["consoleSize"] == Json({{"height", 40}, {"width", 120}}));
  CHECK(s["hostname"] == "web");
  CHECK(s["linux"]["sysctl"]["kernel.domainname"] == "example.com");

  CHECK(BuildError(Input({}, {{"Cmd", {"x"}}, {"WorkingDir", "rel"}}), t.host).message() ==
        "the working directory 'rel' is invalid, it needs to be an absolute path");
  CHECK(BuildError(Input({}, {{"Cmd", nullptr}}), t.host).message() == "No command specified");
  CHECK(BuildError(Input({}, {{"Cmd", "x"}, {"Tty", "yes"}}), t.host).code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("spec: --init runs docker-init as pid 1") {
  TestHost t;
  spec::SpecInput in = Input({{"Init", true}}, {{"Cmd", {"sleep", "1"}}});
  in.init_path = "/usr/bin/docker-init";
  Json s = Build(in, t.host);
  CHECK(s["process"]["args"] == Json({"/sbin/docker-init", "--", "sleep", "1"}));
  const Json* init = MountAt(s, "/sbin/docker-init");
  REQUIRE(init != nullptr);
  CHECK(*init == Json({{"destination", "/sbin/docker-init"},
                       {"type", "bind"},
                       {"source", "/usr/bin/docker-init"},
                       {"options", {"bind", "ro"}}}));
  // Right after Docker's defaults.
  CHECK(Destinations(s)[7] == "/sbin/docker-init");
  in.init_path.clear();
  CHECK(BuildError(in, t.host).code() == absl::StatusCode::kFailedPrecondition);
  // Not with the host's pid namespace: there is an init already.
  spec::SpecInput host_pid = Input({{"Init", true}, {"PidMode", "host"}});
  CHECK(Build(host_pid, t.host)["process"]["args"] == Json({"sh"}));
}

TEST_CASE("spec: read-only rootfs") {
  TestHost t;
  spec::SpecInput in =
      Input({{"ReadonlyRootfs", true}, {"Binds", {"/srv/data:/data"}}, {"Tmpfs", {{"/run", ""}}}});
  in.hosts_path = "/x/hosts";
  Json s = Build(in, t.host);
  CHECK(s["root"]["readonly"] == true);
  CHECK_FALSE(HasOption(*MountAt(s, "/proc"), "ro"));
  CHECK_FALSE(HasOption(*MountAt(s, "/dev"), "ro"));
  CHECK_FALSE(HasOption(*MountAt(s, "/dev/shm"), "ro"));
  CHECK(HasOption(*MountAt(s, "/sys"), "ro"));
  CHECK((*MountAt(s, "/etc/hosts"))["options"] == Json({"rbind", "ro", "rprivate"}));
  // The user's own mounts keep what the user asked for.
  CHECK((*MountAt(s, "/data"))["options"] == Json({"rbind", "rprivate"}));
  CHECK_FALSE(HasOption(*MountAt(s, "/run"), "ro"));
}

TEST_CASE("spec: binds, tmpfs and Mounts") {
  TestHost t;
  spec::SpecInput in =
      Input({{"Binds",
              {"/srv/www:/usr/share/nginx/html:ro", "/var/log/app/:/logs:rslave,rw",
               "/etc/app.conf:/etc/app.conf"}},
             {"Tmpfs", {{"/run", "rw,noexec,nosuid,size=65536k"}, {"/tmp", "exec,mode=1777"}}},
             {"Mounts",
              {{{"Type", "bind"},
                {"Source", "/opt"},
                {"Target", "/opt"},
                {"ReadOnly", true},
                {"BindOptions", {{"NonRecursive", true}}}},
               {{"Type", "tmpfs"},
                {"Target", "/cache"},
                {"TmpfsOptions", {{"SizeBytes", 16777216}, {"Mode", 448}}}}}}});
  in.resolv_conf_path = "/x/resolv.conf";
  Json s = Build(in, t.host);
  // Defaults, then the user's by depth (stable): binds, network files, tmpfs.
  CHECK(Destinations(s) == std::vector<std::string>{
                               "/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue",
                               "/dev/shm", "/logs", "/opt", "/run", "/tmp", "/cache",
                               "/etc/app.conf", "/etc/resolv.conf", "/usr/share/nginx/html"});
  CHECK((*MountAt(s, "/usr/share/nginx/html"))["options"] == Json({"rbind", "ro", "rprivate"}));
  CHECK((*MountAt(s, "/logs"))["source"] == "/var/log/app");
  CHECK((*MountAt(s, "/logs"))["options"] == Json({"rbind", "rslave"}));
  CHECK((*MountAt(s, "/opt"))["options"] == Json({"bind", "ro", "rprivate"}));
  // Later options of a kind win: the request's noexec/nosuid, size.
  CHECK((*MountAt(s, "/run"))["options"] ==
        Json({"nodev", "rprivate", "rw", "noexec", "nosuid", "size=65536k"}));
  CHECK((*MountAt(s, "/run"))["type"] == "tmpfs");
  CHECK((*MountAt(s, "/tmp"))["options"] ==
        Json({"nosuid", "nodev", "rprivate", "exec", "mode=1777"}));
  CHECK((*MountAt(s, "/cache"))["options"] ==
        Json({"noexec", "nosuid", "nodev", "rprivate", "mode=700", "size=16m"}));
}

TEST_CASE("spec: user mounts replace Docker's defaults") {
  TestHost t;
  Json shm = Build(Input({{"Binds", {"/host/shm:/dev/shm"}}}), t.host);
  CHECK((*MountAt(shm, "/dev/shm"))["type"] == "bind");
  std::vector<std::string> shm_destinations = Destinations(shm);
  CHECK(std::count(shm_destinations.begin(), shm_destinations.end(), "/dev/shm") == 1);
  Json dev = Build(Input({{"Binds", {"/dev:/dev"}}}), t.host);
  for (const std::string& destination : Destinations(dev)) {
    CHECK_FALSE(absl::StartsWith(destination, "/dev/"));
  }
  // A user's own /etc/hosts wins over berthd's.
  spec::SpecInput hosts = Input({{"Binds", {"/my/hosts:/etc/hosts:ro"}}});
  hosts.hosts_path = "/x/hosts";
  CHECK((*MountAt(Build(hosts, t.host), "/etc/hosts"))["source"] == "/my/hosts");
  CHECK(Build(Input({{"ShmSize", 1048576}}), t.host)["mounts"][6]["options"].back() ==
        "size=1048576");
}

TEST_CASE("spec: bad mounts") {
  TestHost t;
  CHECK(BuildError(Input({{"Binds", {"/a:relative"}}}), t.host).message() ==
        "invalid volume specification: '/a:relative': invalid mount config for type \"bind\": "
        "invalid mount path: 'relative' mount path must be absolute");
  CHECK(BuildError(Input({{"Binds", {"/a:/b:xx"}}}), t.host).message() ==
        "invalid volume specification: '/a:/b:xx': invalid mode: xx");
  CHECK(BuildError(Input({{"Binds", {"/a:/b:c:d"}}}), t.host).message() ==
        "invalid volume specification: '/a:/b:c:d'");
  CHECK(
      BuildError(Input({{"Binds", {"/a:/"}}}), t.host).message().find("destination can't be '/'") !=
      std::string::npos);
  CHECK(BuildError(Input({{"Binds", {"data:/data"}}}), t.host).code() ==
        absl::StatusCode::kUnimplemented);
  CHECK(BuildError(Input({{"Binds", {"/a:/x", "/b:/x"}}}), t.host).message() ==
        "Duplicate mount point: /x");
  CHECK(BuildError(Input({{"Tmpfs", {{"/run", "foo"}}}}), t.host).message() ==
        "invalid tmpfs option [\"foo\"]");
  CHECK(BuildError(Input({{"Tmpfs", {{"run", ""}}}}), t.host).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(BuildError(Input({{"Mounts", {{{"Type", "volume"}, {"Target", "/v"}}}}}), t.host).code() ==
        absl::StatusCode::kUnimplemented);
}

TEST_CASE("spec: resources") {
  TestHost t;
  Json s = Build(
      Input({{"Memory", 268435456},
             {"MemoryReservation", 134217728},
             {"MemorySwappiness", 10},
             {"OomKillDisable", false},
             {"NanoCpus", 1500000000},
             {"CpuShares", 512},
             {"CpusetCpus", "0-1"},
             {"CpusetMems", "0"},
             {"PidsLimit", 100},
             {"BlkioWeight", 300},
             {"Sysctls",
              {{"net.core.somaxconn", "1024"}, {"net.ipv4.ip_unprivileged_port_start", "1024"}}},
             {"Ulimits", {{{"Name", "nofile"}, {"Soft", 1024}, {"Hard", 4096}}}},
             {"OomScoreAdj", 500}}),
      t.host);
  const Json& r = s["linux"]["resources"];
  CHECK(r["memory"] == Json({{"limit", 268435456},
                             {"reservation", 134217728},
                             {"swap", 536870912},  // dockerd: twice the limit by default
                             {"swappiness", 10},
                             {"disableOOMKiller", false}}));
  CHECK(r["cpu"] == Json({{"shares", 512},
                          {"cpus", "0-1"},
                          {"mems", "0"},
                          {"period", 100000},
                          {"quota", 150000}}));
  CHECK(r["pids"] == Json({{"limit", 100}}));
  CHECK(r["blockIO"] == Json({{"weight", 300}}));
  CHECK(s["linux"]["sysctl"]["net.core.somaxconn"] == "1024");
  CHECK(s["linux"]["sysctl"]["net.ipv4.ip_unprivileged_port_start"] == "1024");
  CHECK(s["process"]["rlimits"] ==
        Json::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 4096}, {"soft", 1024}}}));
  CHECK(s["process"]["oomScoreAdj"] == 500);

  Json quota = Build(Input({{"CpuQuota", 50000},
                            {"CpuPeriod", 100000},
                            {"MemorySwap", -1},
                            {"Memory", 67108864},
                            {"PidsLimit", 0},
                            {"MemorySwappiness", -1}}),
                     t.host)["linux"]["resources"];
  CHECK(quota["cpu"]["quota"] == 50000);
  CHECK(quota["cpu"]["period"] == 100000);
  CHECK(quota["memory"] == Json({{"limit", 67108864}}));  // -1: unlimited swap
  CHECK(quota["pids"] == Json({{"limit", -1}}));

  CHECK(BuildError(Input({{"Memory", 1048576}}), t.host).message() ==
        "Minimum memory limit allowed is 6MB");
  CHECK(BuildError(Input({{"Memory", 67108864}, {"MemorySwap", 33554432}}), t.host).message() ==
        "Minimum memoryswap limit should be larger than memory limit, see usage");
  CHECK(BuildError(Input({{"NanoCpus", 1000000000}, {"CpuQuota", 50000}}), t.host).message() ==
        "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  CHECK(BuildError(Input({{"CpuShares", -1}}), t.host).message() == "shares: invalid argument");
  CHECK(BuildError(Input({{"MemorySwappiness", 101}}), t.host).message() ==
        "Invalid value: 101, valid memory swappiness range is 0-100");
  CHECK(BuildError(Input({{"Memory", "1g"}}), t.host).message() ==
        "HostConfig.Memory: unexpected string value \"1g\"");
}

TEST_CASE("spec: devices and device cgroup rules") {
  TestHost t;
  Json s = Build(Input({{"DeviceCgroupRules", {"c 42:* rmw", "b 8:0 r"}}}), t.host);
  const Json& rules = s["linux"]["resources"]["devices"];
  REQUIRE(rules.size() == 10);
  CHECK(rules[8] ==
        Json({{"allow", true}, {"type", "c"}, {"major", 42}, {"minor", -1}, {"access", "rmw"}}));
  CHECK(rules[9] ==
        Json({{"allow", true}, {"type", "b"}, {"major", 8}, {"minor", 0}, {"access", "r"}}));
  CHECK(BuildError(Input({{"DeviceCgroupRules", {"x 1:1 rwm"}}}), t.host).message() ==
        "invalid device cgroup rule format: 'x 1:1 rwm'");

  if (::access("/dev/null", F_OK) == 0) {
    Json mapped = Build(Input({{"Devices",
                                {{{"PathOnHost", "/dev/null"},
                                  {"PathInContainer", "/dev/mynull"},
                                  {"CgroupPermissions", "rw"}}}}}),
                        t.host);
    REQUIRE(mapped["linux"]["devices"].size() == 1);
    CHECK(mapped["linux"]["devices"][0]["path"] == "/dev/mynull");
    CHECK(mapped["linux"]["devices"][0]["major"] == 1);
    CHECK(mapped["linux"]["resources"]["devices"].back() ==
          Json({{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 3}, {"access", "rw"}}));
  }
  CHECK(BuildError(Input({{"Devices", {{{"PathOnHost", "/etc/hostname"}}}}}), t.host)
            .message()
            .find("error gathering device information") == 0);
}

TEST_CASE("spec: HostConfig masked and read-only paths override the defaults") {
  TestHost t;
  Json s =
      Build(Input({{"MaskedPaths", {"/proc/kcore"}}, {"ReadonlyPaths", Json::array()}}), t.host);
  CHECK(s["linux"]["maskedPaths"] == Json({"/proc/kcore"}));
  CHECK(s["linux"]["readonlyPaths"] == Json::array());
}

TEST_CASE("spec: bad documents are errors") {
  TestHost t;
  spec::SpecInput in = Input();
  in.host_config = Json::array();
  CHECK(BuildError(in, t.host).message() == "HostConfig: expected an object, got array");
  in = Input();
  in.id.clear();
  CHECK(BuildError(in, t.host).code() == absl::StatusCode::kInvalidArgument);
  in = Input();
  in.host_config = nullptr;  // a null HostConfig is an empty one
  CHECK(spec::BuildContainerSpec(in, t.host).ok());
}
