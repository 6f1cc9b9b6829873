// berth-oci's commands, one function per verb (one file each), called by cli.cpp.
// Each returns the process exit code or an error that cli.cpp prints as one line.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lowlevel-runtime/container_state.h"

namespace berth::oci {

struct GlobalOptions {
  std::string root = DefaultStateRoot();
  bool systemd_cgroup = false;
};

struct CreateOptions {
  std::string id;
  std::string bundle = ".";
  std::string pid_file;
  std::string console_socket;
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;
  // The init becomes a child of our caller (CLONE_PARENT), so whoever called
  // `create` (a shim, a subreaper) parents the container once we exit.
  bool init_is_callers_child = true;
};

absl::StatusOr<pid_t> Create(const GlobalOptions& global, const CreateOptions& options);
absl::Status Start(const GlobalOptions& global, const std::string& id);
// run: create + start; waits and returns the container's exit code unless detach.
absl::StatusOr<int> Run(const GlobalOptions& global, CreateOptions options, bool detach);
absl::Status State(const GlobalOptions& global, const std::string& id);
absl::Status Kill(const GlobalOptions& global, const std::string& id, const std::string& signal,
                  bool all);
absl::Status Delete(const GlobalOptions& global, const std::string& id, bool force);
absl::Status List(const GlobalOptions& global, const std::string& format, bool quiet);
absl::Status WriteSpec(const std::string& bundle, bool rootless);

struct ExecOptions {
  std::string id;
  std::string process_path;  // --process: a process.json replaces everything below
  std::vector<std::string> args;
  bool detach = false;
  bool tty = false;
  std::string pid_file;
  std::string console_socket;
  std::string cwd;
  std::string user;  // uid[:gid]
  std::vector<std::string> env;
  std::vector<std::string> caps;
  std::vector<uint32_t> additional_gids;
  bool no_new_privs = false;
  int preserve_fds = 0;
};

// Runs a process inside a running container; returns its exit code (0 when detached).
absl::StatusOr<int> Exec(const GlobalOptions& global, const ExecOptions& options);
// The pids in the container's cgroup, as `ps` lines (table) or a JSON array.
absl::Status Ps(const GlobalOptions& global, const std::string& id, const std::string& format,
                const std::vector<std::string>& ps_args);
absl::Status Pause(const GlobalOptions& global, const std::string& id);
absl::Status Resume(const GlobalOptions& global, const std::string& id);

struct UpdateOptions {
  std::string id;
  std::string resources_path;  // -r: resources JSON, "-" for stdin
  std::optional<int64_t> memory, memory_swap, memory_reservation, cpu_quota, pids_limit;
  std::optional<uint64_t> cpu_shares, cpu_period;
  std::optional<uint16_t> blkio_weight;
  std::string cpuset_cpus, cpuset_mems;
};
absl::Status Update(const GlobalOptions& global, const UpdateOptions& options);
// JSON lines: stats every interval and OOM notifications until the container stops;
// with stats_only, one stats line.
absl::Status Events(const GlobalOptions& global, const std::string& id, bool stats_only,
                    const std::string& interval);
// The features document (runc features).
absl::Status Features();

// Signal by name ("TERM", "SIGKILL") or number ("9").
absl::StatusOr<int> ParseSignal(const std::string& signal);

}  // namespace berth::oci
