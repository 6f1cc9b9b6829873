// berthd: the Docker Engine API daemon (berth's dockerd).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/daemon/daemon.h"

namespace berth::engine {

struct Options {
  std::vector<std::string> hosts;  // "unix:///run/berth/berthd.sock", "tcp://127.0.0.1:2375"
  std::string runtimed = "/run/berth/runtimed.sock";
  std::string pidfile;
  std::string group = "berth";
  std::string log_level = "info";
  DaemonOptions daemon;
};

// Serves the API until SIGINT/SIGTERM.
absl::Status Serve(const Options& options);

// Parses dockerd-style flags and runs the daemon; returns the exit code.
int Main(int argc, char** argv);

}  // namespace berth::engine
