// The Docker Engine API endpoints berthd serves, added to a Router by area.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/daemon/daemon.h"
#include "engine/http/response_writer.h"
#include "engine/http/router.h"
#include "engine/runtimed_client.h"

namespace berth::engine {

inline constexpr const char* kMinApiVersion = "1.41";
inline constexpr const char* kMaxApiVersion = "1.47";

// What /version and /info say about the binaries below berthd.
struct ComponentVersion {
  std::string name, version, git_commit;
};

void AddSystemRoutes(http::Router& router, Daemon& daemon, RuntimedClient& runtimed);
void AddContainerRoutes(http::Router& router, Daemon& daemon);
void AddImageRoutes(http::Router& router, Daemon& daemon);
void AddExecRoutes(http::Router& router, Daemon& daemon);
// GET /events (event_routes.cpp).
void AddEventRoutes(http::Router& router, Daemon& daemon);
// GET /containers/{id}/stats (stats_routes.cpp).
void AddStatsRoutes(http::Router& router, Daemon& daemon);

// The since/until of /events: "" is unset (InfinitePast), else a unix
// timestamp with an optional fraction, a Go duration before now ("10m") or
// an RFC 3339 time; InvalidArgument otherwise.
absl::StatusOr<absl::Time> ParseEventTime(const std::string& text, absl::Time now);

// Sends an error status with Docker's HTTP code: NotFound 404, AlreadyExists
// and FailedPrecondition 409, InvalidArgument 400, PermissionDenied 403,
// Unimplemented 501, the rest 500.
void SendStatus(http::ResponseWriter& w, const absl::Status& status);
// Parses a JSON request body; an empty body is null.
absl::StatusOr<nlohmann::json> ParseBody(const http::Request& r);
// Writes all of data to a hijacked connection; false once the peer is gone.
bool WriteAll(int fd, absl::string_view data);
// Docker's stdcopy frame: [stream, 0, 0, 0, size (big-endian uint32)] + data.
std::string Frame(StreamKind stream, const std::string& data);
// The h and w query parameters of a resize.
absl::StatusOr<std::pair<uint32_t, uint32_t>> ResizeQuery(const http::Request& r);

}  // namespace berth::engine
