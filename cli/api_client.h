// The Docker Engine API client: HTTP/1.1 over a unix socket or TCP
// (Boost.Beast), API version negotiation through HEAD /_ping, JSON requests,
// streamed bodies (pull progress) and hijacked connections (attach).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "nlohmann/json.hpp"

namespace berth::cli {

using OrderedJson = nlohmann::ordered_json;
using Query = std::vector<std::pair<std::string, std::string>>;

// The newest API version this client speaks.
inline constexpr std::string_view kMaxApiVersion = "1.47";
inline constexpr std::string_view kDefaultHost = "unix:///run/berth/berthd.sock";

struct ApiResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// A request sent whose response is read later (POST /containers/{id}/wait
// is sent before the start, as docker does).
class PendingResponse {
 public:
  virtual ~PendingResponse() = default;
  // Waits up to timeout_ms for the response headers to start arriving;
  // true if they did (dockerd flushes them as soon as the waiter is set).
  virtual bool WaitReadable(int timeout_ms) = 0;
  // Reads the whole response; a non-2xx status is an error.
  virtual absl::StatusOr<ApiResponse> Get() = 0;
};

// A hijacked connection (attach): the raw socket after the 101 response, and
// the stream bytes already read past the headers.
struct Hijacked {
  UniqueFd fd;
  std::string pending;
};

// "a=1&b=x%20y"
std::string EncodeQuery(const Query& query);
// 1.41 < 1.47 etc.; -1, 0, 1.
int CompareApiVersions(std::string_view a, std::string_view b);

// The daemon's error message from an error response body ({"message": "..."}
// or plain text).
std::string DaemonErrorMessage(const ApiResponse& resp);
// The absl status for an HTTP error status: 404 NotFound, 409 AlreadyExists,
// 400 InvalidArgument, ... with "Error response from daemon: <message>".
absl::Status DaemonError(const ApiResponse& resp);

class ApiClient {
 public:
  // host: unix:///path, tcp://host:port (or host:port), as docker's -H.
  static absl::StatusOr<ApiClient> Create(std::string host);

  const std::string& host() const { return host_; }
  const std::string& api_version() const { return version_; }
  const std::string& server_os() const { return server_os_; }

  // HEAD /_ping; takes the server's Api-Version when it is older than ours.
  absl::Status Negotiate();

  // Request on /v<version><path>; a non-2xx status is an error (DaemonError).
  absl::StatusOr<ApiResponse> Do(std::string_view method, std::string_view path,
                                 const Query& query = {},
                                 const std::optional<std::string>& body = std::nullopt,
                                 const std::map<std::string, std::string>& headers = {});
  // Same, and parses the body as JSON (keeping the daemon's key order).
  absl::StatusOr<OrderedJson> DoJson(std::string_view method, std::string_view path,
                                     const Query& query = {},
                                     const std::optional<OrderedJson>& body = std::nullopt);
  // Streams a 2xx response body to on_data as it arrives.
  absl::Status Stream(std::string_view method, std::string_view path, const Query& query,
                      const std::optional<std::string>& body,
                      const std::function<absl::Status(std::string_view)>& on_data,
                      const std::map<std::string, std::string>& headers = {});
  // Sends the request now; the response is read by the caller later.
  absl::StatusOr<std::unique_ptr<PendingResponse>> Send(std::string_view method,
                                                        std::string_view path,
                                                        const Query& query = {});
  // POST with Connection: Upgrade, Upgrade: tcp (and a JSON body: exec
  // start); hands over the socket.
  absl::StatusOr<Hijacked> Hijack(std::string_view path, const Query& query,
                                  const std::optional<std::string>& body = std::nullopt);

  // The "Cannot connect to the berth daemon at …" error for this host.
  absl::Status ConnectError(int err) const;

 private:
  ApiClient() = default;
  absl::StatusOr<UniqueFd> Dial() const;
  std::string Target(std::string_view path, const Query& query) const;

  std::string host_;
  std::string unix_path_;  // set for unix://
  std::string tcp_host_;
  std::string tcp_port_;
  std::string version_{kMaxApiVersion};
  std::string server_os_;
};

}  // namespace berth::cli
