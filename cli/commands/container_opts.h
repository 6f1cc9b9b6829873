// The flags docker run and docker create share, and their mapping onto the
// POST /containers/create body (Config + HostConfig + NetworkingConfig), as
// docker's cli/command/container/opts.go parse() does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace berth::cli {

struct ContainerOptions {
  // Not in the body.
  std::string name;
  std::string pull = "missing";
  std::string platform;
  bool quiet = false;
  // run only
  bool detach = false;
  bool sig_proxy = true;
  std::string detach_keys;

  std::vector<std::string> attach;
  bool interactive = false;
  bool tty = false;
  std::vector<std::string> env;
  std::vector<std::string> env_file;
  std::string workdir;
  std::string user;
  std::string entrypoint;
  std::vector<std::string> labels;
  std::vector<std::string> label_file;
  std::string hostname;
  std::string domainname;
  std::string stop_signal;
  int stop_timeout = 0;
  std::string network;
  bool init = false;
  bool privileged = false;
  std::vector<std::string> cap_add;
  std::vector<std::string> cap_drop;
  bool read_only = false;
  std::vector<std::string> security_opt;
  std::string memory;
  std::string memory_swap;
  std::string shm_size;
  double cpus = 0;
  int64_t cpu_shares = 0;
  int64_t pids_limit = 0;
  std::string restart;
  bool rm = false;
  std::vector<std::string> volumes;
  std::vector<std::string> tmpfs;
  std::vector<std::string> dns;
  std::vector<std::string> add_host;
  std::vector<std::string> group_add;
  std::vector<std::string> sysctls;
  std::string runtime;
  std::string ipc;
  std::string pid;
  std::string uts;
  std::string cgroupns;
  std::string log_driver;
  std::vector<std::string> log_opts;
  std::string cidfile;

  // Set by AddContainerFlags' parser: which flags were given (flags.Changed).
  bool entrypoint_set = false;
  bool stop_timeout_set = false;
  bool init_set = false;
  bool pids_limit_set = false;

  // Positionals: IMAGE [COMMAND] [ARG...]
  std::string image;
  std::vector<std::string> args;
};

// Adds the shared flags (and, for run, -d --sig-proxy --detach-keys) to cmd.
void AddContainerFlags(CLI::App* cmd, ContainerOptions* opts, bool run);
// After parsing: records which flags were given (entrypoint_set, …).
void RecordChangedFlags(CLI::App* cmd, ContainerOptions* opts);

// The create request: body and the ?name= query value.
absl::StatusOr<nlohmann::ordered_json> BuildCreateBody(const ContainerOptions& opts);

// docker's env-file reader: KEY=VALUE lines, # comments, bare KEY taken from
// the environment (dropped if unset), names without whitespace.
absl::StatusOr<std::vector<std::string>> ReadEnvFile(const std::string& path);

// "--pull" values: always, missing, never.
absl::Status ValidatePullOption(const std::string& pull);

}  // namespace berth::cli
