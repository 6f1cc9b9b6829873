// A container as berthd knows it: Docker's own record of it (name, Config,
// HostConfig, State, the files berthd made for it), kept on disk by the
// ContainerStore and shown by GET /containers/{id}/json in the shape of
// `docker inspect`.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace berth::engine {

struct ContainerState {
  // "created", "running", "paused", "restarting", "removing", "exited", "dead"
  std::string Status() const;

  bool running = false;
  bool paused = false;
  bool restarting = false;
  bool oom_killed = false;
  bool dead = false;
  bool removing = false;
  int pid = 0;
  int exit_code = 0;
  std::string error;
  absl::Time started_at = absl::InfinitePast();   // never started
  absl::Time finished_at = absl::InfinitePast();  // never exited
};

struct Container {
  std::string id;    // 64 hex
  std::string name;  // without docker's leading '/'
  absl::Time created;
  std::string path;               // the command run: Entrypoint + Cmd, first word
  std::vector<std::string> args;  // the rest
  std::string image;              // the image's id: its config digest
  nlohmann::json config;          // Docker Config, merged with the image's
  nlohmann::json host_config;     // Docker HostConfig as created
  ContainerState state;
  int restart_count = 0;
  std::string log_path, hostname_path, hosts_path, resolv_conf_path;
  // The init-process exec id berthd gave the runtime ("" for the task's init).
  bool has_been_started = false;

  nlohmann::json ToRecord() const;
  static absl::StatusOr<Container> FromRecord(const nlohmann::json& record);

  // GET /containers/{id}/json. graph_driver: the snapshot's overlay dirs.
  nlohmann::ordered_json Inspect(const nlohmann::json& graph_driver_data) const;
  // One entry of GET /containers/json.
  nlohmann::ordered_json Summary(const std::string& image_name) const;
};

// Docker's timestamps: RFC 3339 with nanoseconds, UTC; "0001-01-01T00:00:00Z"
// for a time that never happened.
std::string FormatDockerTime(absl::Time t);
absl::Time ParseDockerTime(const std::string& text);

// "Up 3 minutes", "Exited (0) 2 seconds ago", "Created": the STATUS column.
std::string HumanStatus(const ContainerState& state, absl::Time now);

}  // namespace berth::engine
