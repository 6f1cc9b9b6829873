// berth-oci's commands, one function per verb (one file each), called by cli.cpp.
// Each returns the process exit code or an error that cli.cpp prints as one line.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::oci {

struct GlobalOptions {
  std::string root = "/run/berth-oci";
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

// Signal by name ("TERM", "SIGKILL") or number ("9").
absl::StatusOr<int> ParseSignal(const std::string& signal);

}  // namespace berth::oci
