// process.terminal: a pty created inside the container, its master sent to the
// caller over --console-socket with SCM_RIGHTS (runc's protocol), its slave
// made the process's controlling terminal and stdio.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/oci/runtime_spec.h"
#include "common/unique_fd.h"

namespace berth::oci {

// Connects to the console socket (done before pivot_root, the path is on the host).
absl::StatusOr<UniqueFd> ConnectConsoleSocket(const std::string& path);

// Opens a pty from the container's /dev/ptmx, sends the master over socket_fd,
// makes the slave the controlling terminal and stdin/stdout/stderr.
// Also bind-mounts the slave on /dev/console when that exists.
absl::Status SetupConsole(int socket_fd, const std::optional<ConsoleSize>& size);

// Sends fd over a unix socket with SCM_RIGHTS, with `name` as the payload.
absl::Status SendFd(int socket_fd, int fd, const std::string& name);

}  // namespace berth::oci
