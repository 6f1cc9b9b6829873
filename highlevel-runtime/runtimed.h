// berth-runtimed: the lifecycle manager (berth's containerd), a gRPC server.
#pragma once

#include <set>
#include <string>

#include "absl/status/status.h"

namespace berth::runtimed {

struct Options {
  std::string address = "/run/berth/runtimed.sock";
  std::string root = "/var/lib/berth/runtimed";
  std::string state = "/run/berth/runtimed";
  std::string log_level = "info";
  // Registries pulled from over plain HTTP (127.0.0.1 and localhost always are).
  std::set<std::string> insecure_registries;
};

// Serves the API on options.address until SIGINT/SIGTERM.
absl::Status Serve(const Options& options);

// Parses containerd-style flags and runs the daemon; returns the exit code.
int Main(int argc, char** argv);

}  // namespace berth::runtimed
