// Listening unix stream sockets (the shim's, its console socket, runtimed's
// shim-events socket).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace berth {

// socket + bind + listen on `path`, close-on-exec; `socket_flags` may add
// SOCK_NONBLOCK. A file already at `path` (a dead server's socket) is
// replaced. InvalidArgument when the path does not fit in sun_path.
absl::StatusOr<UniqueFd> ListenUnix(const std::string& path, int backlog, int socket_flags = 0);

}  // namespace berth
