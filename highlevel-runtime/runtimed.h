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
  // Registries whose TLS certificate is not verified and which may be pulled
  // from over plain HTTP (127.0.0.1 and localhost may always use plain HTTP).
  std::set<std::string> insecure_registries;
  // Per-registry CAs and client certificates, docker's layout:
  // <dir>/<host:port>/{ca.crt, client.cert, client.key}.
  std::string registry_certs_dir = "/etc/docker/certs.d";
};

// Serves the API on options.address until SIGINT/SIGTERM.
absl::Status Serve(const Options& options);

// Parses containerd-style flags and runs the daemon; returns the exit code.
int Main(int argc, char** argv);

}  // namespace berth::runtimed
