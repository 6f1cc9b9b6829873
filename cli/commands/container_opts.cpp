#include "cli/commands/container_opts.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "cli/format/units.h"

namespace berth::cli {

using Json = nlohmann::ordered_json;

namespace {

std::string Str(absl::string_view s) { return std::string(s.data(), s.size()); }

// opts.ValidateEnv: "A=1" as is; a bare "A" takes the client's value if set.
std::string ExpandEnv(const std::string& kv) {
  if (kv.find('=') != std::string::npos) return kv;
  if (const char* v = std::getenv(kv.c_str())) return kv + "=" + v;
  return kv;
}

absl::StatusOr<std::vector<std::string>> ReadLabelFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError("open " + path + ": no such file or directory");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    std::string t = Str(absl::StripAsciiWhitespace(line));
    if (t.empty() || t[0] == '#') continue;
    out.push_back(t);
  }
  return out;
}

absl::StatusOr<Json> ParseSecurityOpts(const std::vector<std::string>& opts) {
  Json out = Json::array();
  for (std::string opt : opts) {
    if (opt == "systempaths=unconfined" || opt == "no-new-privileges") {
      out.push_back(opt);
      continue;
    }
    auto eq = opt.find('=');
    auto colon = opt.find(':');
    if (eq == std::string::npos && colon != std::string::npos) {
      opt[colon] = '=';  // deprecated label:... spelling
      eq = colon;
    }
    if (eq == std::string::npos) {
      return absl::InvalidArgumentError("Invalid --security-opt: \"" + opt + "\"");
    }
    std::string key = opt.substr(0, eq), value = opt.substr(eq + 1);
    if (key == "seccomp" && value != "unconfined" && value != "builtin") {
      std::ifstream in(value);
      if (!in) {
        return absl::InvalidArgumentError("opening seccomp profile (" + value + ") failed: open " +
                                          value + ": no such file or directory");
      }
      std::stringstream ss;
      ss << in.rdbuf();
      Json profile = Json::parse(ss.str(), nullptr, false);
      if (profile.is_discarded()) {
        return absl::InvalidArgumentError("compacting json for seccomp profile (" + value +
                                          ") failed");
      }
      out.push_back("seccomp=" + profile.dump());
      continue;
    }
    out.push_back(opt);
  }
  return out;
}

absl::StatusOr<Json> RestartPolicy(const std::string& restart) {
  Json p = {{"Name", "no"}, {"MaximumRetryCount", 0}};
  if (restart.empty()) return p;
  std::vector<std::string> parts = absl::StrSplit(restart, absl::MaxSplits(':', 1));
  const std::string& name = parts[0];
  if (name != "no" && name != "always" && name != "unless-stopped" && name != "on-failure") {
    return absl::InvalidArgumentError("invalid restart policy format: " + restart);
  }
  p["Name"] = name;
  if (parts.size() == 2) {
    if (name != "on-failure") {
      return absl::InvalidArgumentError("maximum retry count cannot be used with restart policy '" +
                                        name + "'");
    }
    int n = 0;
    if (!absl::SimpleAtoi(parts[1], &n)) {
      return absl::InvalidArgumentError("maximum retry count must be an integer");
    }
    p["MaximumRetryCount"] = n;
  }
  return p;
}

}  // namespace

absl::Status ValidatePullOption(const std::string& pull) {
  if (pull == "always" || pull == "missing" || pull == "never") return absl::OkStatus();
  return absl::InvalidArgumentError("invalid pull option: '" + pull +
                                    "': must be one of \"always\", \"missing\" or \"never\"");
}

absl::StatusOr<std::vector<std::string>> ReadEnvFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError("open " + path + ": no such file or directory");
  std::vector<std::string> out;
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    if (first && absl::StartsWith(line, "\xEF\xBB\xBF")) line.erase(0, 3);
    first = false;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string t = Str(absl::StripLeadingAsciiWhitespace(line));
    if (t.empty() || t[0] == '#') continue;
    auto eq = t.find('=');
    std::string name = eq == std::string::npos ? t : t.substr(0, eq);
    std::string trimmed_name = Str(absl::StripLeadingAsciiWhitespace(name));
    if (trimmed_name.empty()) {
      return absl::InvalidArgumentError("no variable name on line '" + line + "'");
    }
    for (char c : trimmed_name) {
      if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
        return absl::InvalidArgumentError("variable '" + trimmed_name + "' contains whitespaces");
      }
    }
    if (eq != std::string::npos) {
      out.push_back(trimmed_name + "=" + t.substr(eq + 1));
    } else if (const char* v = std::getenv(trimmed_name.c_str())) {
      out.push_back(trimmed_name + "=" + v);
    }
  }
  return out;
}

void AddContainerFlags(CLI::App* cmd, ContainerOptions* o, bool run) {
  cmd->set_help_flag("--help", "Print usage");  // -h is --hostname
  if (run) {
    cmd->add_flag("-d,--detach", o->detach, "Run container in background and print container ID");
    cmd->add_flag("--sig-proxy{true}", o->sig_proxy, "Proxy received signals to the process");
    cmd->add_option("--detach-keys", o->detach_keys,
                    "Override the key sequence for detaching a container");
  }
  cmd->add_option("--name", o->name, "Assign a name to the container");
  cmd->add_option("--pull", o->pull,
                  "Pull image before running (\"always\", \"missing\", \"never\")");
  cmd->add_option("--platform", o->platform, "Set platform if server is multi-platform capable");
  cmd->add_flag("-q,--quiet", o->quiet, "Suppress the pull output");
  cmd->add_option("-a,--attach", o->attach, "Attach to STDIN, STDOUT or STDERR");
  cmd->add_flag("-i,--interactive", o->interactive, "Keep STDIN open even if not attached");
  cmd->add_flag("-t,--tty", o->tty, "Allocate a pseudo-TTY");
  cmd->add_option("-e,--env", o->env, "Set environment variables");
  cmd->add_option("--env-file", o->env_file, "Read in a file of environment variables");
  cmd->add_option("-w,--workdir", o->workdir, "Working directory inside the container");
  cmd->add_option("-u,--user", o->user, "Username or UID (format: <name|uid>[:<group|gid>])");
  cmd->add_option("--entrypoint", o->entrypoint, "Overwrite the default ENTRYPOINT of the image");
  cmd->add_option("-l,--label", o->labels, "Set meta data on a container");
  cmd->add_option("--label-file", o->label_file, "Read in a line delimited file of labels");
  cmd->add_option("-h,--hostname", o->hostname, "Container host name");
  cmd->add_option("--domainname", o->domainname, "Container NIS domain name");
  cmd->add_option("--stop-signal", o->stop_signal, "Signal to stop the container");
  cmd->add_option("--stop-timeout", o->stop_timeout, "Timeout (in seconds) to stop a container");
  cmd->add_option("--network,--net", o->network, "Connect a container to a network");
  cmd->add_flag("--init", o->init,
                "Run an init inside the container that forwards signals and reaps processes");
  cmd->add_flag("--privileged", o->privileged, "Give extended privileges to this container");
  cmd->add_option("--cap-add", o->cap_add, "Add Linux capabilities");
  cmd->add_option("--cap-drop", o->cap_drop, "Drop Linux capabilities");
  cmd->add_flag("--read-only", o->read_only, "Mount the container's root filesystem as read only");
  cmd->add_option("--security-opt", o->security_opt, "Security Options");
  cmd->add_option("-m,--memory", o->memory, "Memory limit");
  cmd->add_option("--memory-swap", o->memory_swap,
                  "Swap limit equal to memory plus swap: '-1' to enable unlimited swap");
  cmd->add_option("--shm-size", o->shm_size, "Size of /dev/shm");
  cmd->add_option("--cpus", o->cpus, "Number of CPUs");
  cmd->add_option("-c,--cpu-shares", o->cpu_shares, "CPU shares (relative weight)");
  cmd->add_option("--pids-limit", o->pids_limit,
                  "Tune container pids limit (set -1 for unlimited)");
  cmd->add_option("--restart", o->restart, "Restart policy to apply when a container exits");
  cmd->add_flag("--rm", o->rm, "Automatically remove the container when it exits");
  cmd->add_option("-v,--volume", o->volumes, "Bind mount a volume");
  cmd->add_option("--tmpfs", o->tmpfs, "Mount a tmpfs directory");
  cmd->add_option("--dns", o->dns, "Set custom DNS servers");
  cmd->add_option("--add-host", o->add_host, "Add a custom host-to-IP mapping (host:ip)");
  cmd->add_option("--group-add", o->group_add, "Add additional groups to join");
  cmd->add_option("--sysctl", o->sysctls, "Sysctl options");
  cmd->add_option("--runtime", o->runtime, "Runtime to use for this container");
  cmd->add_option("--ipc", o->ipc, "IPC mode to use");
  cmd->add_option("--pid", o->pid, "PID namespace to use");
  cmd->add_option("--uts", o->uts, "UTS namespace to use");
  cmd->add_option("--cgroupns", o->cgroupns, "Cgroup namespace to use (host|private)");
  cmd->add_option("--log-driver", o->log_driver, "Logging driver for the container");
  cmd->add_option("--log-opt", o->log_opts, "Log driver options");
  cmd->add_option("--cidfile", o->cidfile, "Write the container ID to the file");
  // pflag semantics: a repeated flag takes one value per use (-e A -e B).
  for (CLI::Option* opt : cmd->get_options()) {
    if (!opt->get_positional()) opt->allow_extra_args(false);
  }
}

void RecordChangedFlags(CLI::App* cmd, ContainerOptions* o) {
  o->entrypoint_set = cmd->count("--entrypoint") > 0;
  o->stop_timeout_set = cmd->count("--stop-timeout") > 0;
  o->init_set = cmd->count("--init") > 0;
  o->pids_limit_set = cmd->count("--pids-limit") > 0;
}

absl::StatusOr<Json> BuildCreateBody(const ContainerOptions& o) {
  for (const auto& a : o.attach) {
    std::string s = Str(absl::AsciiStrToLower(a));
    if (s != "stdin" && s != "stdout" && s != "stderr") {
      return absl::InvalidArgumentError("valid streams are STDIN, STDOUT and STDERR");
    }
  }
  auto attached = [&](const char* s) {
    for (const auto& a : o.attach) {
      if (absl::EqualsIgnoreCase(a, s)) return true;
    }
    return false;
  };
  bool attach_stdin = attached("stdin") || o.interactive;
  bool attach_stdout = attached("stdout");
  bool attach_stderr = attached("stderr");
  if (o.attach.empty()) {
    attach_stdout = true;
    attach_stderr = true;
  }
  if (o.detach) {
    attach_stdin = attach_stdout = attach_stderr = false;
  }

  // Environment: env files first, then -e.
  Json env = Json::array();
  for (const auto& f : o.env_file) {
    auto lines = ReadEnvFile(f);
    if (!lines.ok()) return lines.status();
    for (auto& l : *lines) env.push_back(l);
  }
  for (const auto& e : o.env) {
    if (e.empty() || e[0] == '=') {
      return absl::InvalidArgumentError("invalid environment variable: " + e);
    }
    env.push_back(ExpandEnv(e));
  }

  Json labels = Json::object();
  std::vector<std::string> all_labels;
  for (const auto& f : o.label_file) {
    auto lines = ReadLabelFile(f);
    if (!lines.ok()) return lines.status();
    all_labels.insert(all_labels.end(), lines->begin(), lines->end());
  }
  all_labels.insert(all_labels.end(), o.labels.begin(), o.labels.end());
  for (const auto& l : all_labels) {
    auto eq = l.find('=');
    if (eq == std::string::npos) {
      labels[l] = "";
    } else {
      labels[l.substr(0, eq)] = l.substr(eq + 1);
    }
  }

  Json entrypoint = nullptr;
  if (!o.entrypoint.empty()) {
    entrypoint = Json::array({o.entrypoint});
  } else if (o.entrypoint_set) {
    entrypoint = Json::array({""});  // --entrypoint "" resets the image's
  }
  Json cmd = nullptr;
  if (!o.args.empty()) cmd = o.args;

  const std::string& hostname = o.hostname;
  const std::string& domainname = o.domainname;

  Json binds = Json::array();
  Json volumes = Json::object();
  for (const auto& v : o.volumes) {
    if (v.find(':') != std::string::npos) {
      binds.push_back(v);
    } else {
      volumes[v] = Json::object();
    }
  }

  Json config = {
      {"Hostname", hostname},
      {"Domainname", domainname},
      {"User", o.user},
      {"AttachStdin", attach_stdin},
      {"AttachStdout", attach_stdout},
      {"AttachStderr", attach_stderr},
      {"Tty", o.tty},
      {"OpenStdin", o.interactive},
      {"StdinOnce", attach_stdin},
      {"Env", env},
      {"Cmd", cmd},
      {"Image", o.image},
      {"Volumes", volumes.empty() ? Json(nullptr) : volumes},
      {"WorkingDir", o.workdir},
      {"Entrypoint", entrypoint},
      {"OnBuild", nullptr},
      {"Labels", labels},
  };
  if (!o.stop_signal.empty()) config["StopSignal"] = o.stop_signal;
  if (o.stop_timeout_set) config["StopTimeout"] = o.stop_timeout;

  int64_t memory = 0, memory_swap = 0, shm = 0;
  if (!o.memory.empty()) {
    auto m = RAMInBytes(o.memory);
    if (!m.ok()) return m.status();
    memory = *m;
  }
  if (!o.memory_swap.empty()) {
    if (o.memory_swap == "-1") {
      memory_swap = -1;
    } else {
      auto m = RAMInBytes(o.memory_swap);
      if (!m.ok()) return m.status();
      memory_swap = *m;
    }
  }
  if (!o.shm_size.empty()) {
    auto m = RAMInBytes(o.shm_size);
    if (!m.ok()) return m.status();
    shm = *m;
  }
  auto security = ParseSecurityOpts(o.security_opt);
  if (!security.ok()) return security.status();
  auto restart = RestartPolicy(o.restart);
  if (!restart.ok()) return restart.status();
  if (o.rm && (*restart)["Name"].get<std::string>() != "no") {
    return absl::InvalidArgumentError("Conflicting options: --restart and --rm");
  }
  Json tmpfs = Json::object();
  for (const auto& t : o.tmpfs) {
    auto colon = t.find(':');
    tmpfs[t.substr(0, colon)] = colon == std::string::npos ? "" : t.substr(colon + 1);
  }
  Json sysctls = Json::object();
  for (const auto& s : o.sysctls) {
    auto eq = s.find('=');
    if (eq == std::string::npos)
      return absl::InvalidArgumentError("invalid value \"" + s + "\" for --sysctl");
    sysctls[s.substr(0, eq)] = s.substr(eq + 1);
  }
  Json log_config = {{"Type", o.log_driver}, {"Config", Json::object()}};
  for (const auto& l : o.log_opts) {
    auto eq = l.find('=');
    if (eq == std::string::npos)
      return absl::InvalidArgumentError("invalid key/value pair format in logging opts");
    log_config["Config"][l.substr(0, eq)] = l.substr(eq + 1);
  }
  auto list_or_null = [](const std::vector<std::string>& v) {
    return v.empty() ? Json(nullptr) : Json(v);
  };

  Json host = {
      {"Binds", binds.empty() ? Json(nullptr) : binds},
      {"ContainerIDFile", o.cidfile},
      {"LogConfig", log_config},
      {"NetworkMode", o.network.empty() ? "default" : o.network},
      {"PortBindings", Json::object()},
      {"RestartPolicy", *restart},
      {"AutoRemove", o.rm},
      {"VolumeDriver", ""},
      {"VolumesFrom", nullptr},
      {"CapAdd", list_or_null(o.cap_add)},
      {"CapDrop", list_or_null(o.cap_drop)},
      {"CgroupnsMode", o.cgroupns},
      {"Dns", Json::array()},
      {"DnsOptions", Json::array()},
      {"DnsSearch", Json::array()},
      {"ExtraHosts", list_or_null(o.add_host)},
      {"GroupAdd", list_or_null(o.group_add)},
      {"IpcMode", o.ipc},
      {"Cgroup", ""},
      {"Links", nullptr},
      {"OomScoreAdj", 0},
      {"PidMode", o.pid},
      {"Privileged", o.privileged},
      {"PublishAllPorts", false},
      {"ReadonlyRootfs", o.read_only},
      {"SecurityOpt", security->empty() ? Json(nullptr) : *security},
      {"Tmpfs", tmpfs.empty() ? Json(nullptr) : tmpfs},
      {"UTSMode", o.uts},
      {"UsernsMode", ""},
      {"ShmSize", shm},
      {"Sysctls", sysctls.empty() ? Json(nullptr) : sysctls},
      {"Runtime", o.runtime},
      {"ConsoleSize", Json::array({0, 0})},
      {"Isolation", ""},
      {"CpuShares", o.cpu_shares},
      {"Memory", memory},
      {"NanoCpus", static_cast<int64_t>(o.cpus * 1e9)},
      {"MemorySwap", memory_swap},
      {"BlkioWeightDevice", Json::array()},
      {"Devices", Json::array()},
  };
  for (const auto& d : o.dns) host["Dns"].push_back(d);
  if (o.pids_limit_set) host["PidsLimit"] = o.pids_limit;
  if (o.init_set) host["Init"] = o.init;
  config["HostConfig"] = host;
  Json endpoints = Json::object();
  if (!o.network.empty() && o.network != "default" && o.network != "none" && o.network != "host" &&
      o.network != "bridge" && !absl::StartsWith(o.network, "container:")) {
    endpoints[o.network] = Json::object();
  }
  config["NetworkingConfig"] = {{"EndpointsConfig", endpoints}};
  return config;
}

}  // namespace berth::cli
