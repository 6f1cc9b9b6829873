// berthd's HTTP/1.1 server for the Docker Engine API: unix/tcp listeners, one thread per
// connection (synchronous Boost.Beast; handlers may block), keep-alive, chunked streaming,
// connection hijack, docker's API version prefix and checks.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/unique_fd.h"
#include "engine/http/request.h"
#include "engine/http/response_writer.h"
#include "engine/http/router.h"

namespace berth::engine::http {

struct ServerOptions {
  // "/v1.NN/..." below min or above max is answered 400 with moby's wording.
  std::string min_api_version = "1.41";
  std::string max_api_version = "1.47";       // also the Api-Version header of every response
  size_t max_body_bytes = size_t{64} << 20;   // larger -> 413 and close
  size_t max_header_bytes = size_t{1} << 20;  // larger -> 431 and close (Go's default)
  // Added to every response, e.g. {"Ostype","linux"}, {"Docker-Experimental","false"},
  // {"Server","Docker/... (linux)"}.
  std::map<std::string, std::string> extra_headers;
};

class Server {
 public:
  Server(Router router, ServerOptions opts);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // A unix socket at path: a stale file there is replaced, then chmod mode, then chown to
  // group `group` when that group exists (a warning is logged when it does not). The
  // socket file is removed when Run returns.
  absl::Status ListenUnix(const std::string& path, mode_t mode, const std::string& group);
  // "host:port", "[v6addr]:port" or ":port" (all addresses).
  absl::Status ListenTcp(const std::string& host_port);
  // An already listening stream socket (e.g. systemd socket activation, fd://).
  absl::Status Listen(UniqueFd listening_fd);

  // Serves until Shutdown() (returns at once if Shutdown was already called). Each
  // connection runs on its own detached thread; keep-alive requests loop on it.
  void Run();
  // Thread-safe, not async-signal-safe. Stops accepting, closes the listeners (in Run) and
  // wakes Run. Open connections get their read side shut down: idle keep-alive connections
  // end, in-flight handlers finish their response (ClientGone() turns true) on their own
  // threads; Shutdown does not wait for them. Hijacked connections are not touched.
  void Shutdown();

  // Waits until no connection thread is left (including handlers that hijacked their
  // connection and still run); false on timeout.
  bool WaitForConnections(std::chrono::milliseconds timeout);
  // Connection threads currently running.
  size_t ActiveConnections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::engine::http
