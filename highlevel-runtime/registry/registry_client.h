// A client of the OCI distribution API (/v2/...) over libcurl: manifests and
// blobs of one registry host. Plain HTTP for hosts marked insecure (and for
// 127.0.0.1/localhost), HTTPS otherwise. Authentication as docker does it:
// anonymous first; on 401 with `WWW-Authenticate: Bearer realm=..,service=..,
// scope=..` a token is fetched from the realm (with the basic credentials, if
// any) and the request retried; on `WWW-Authenticate: Basic` the credentials
// are sent directly.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/digest.h"

namespace berth::runtimed {

struct RegistryCredentials {
  std::string username, password;
};

struct RegistryOptions {
  bool insecure = false;  // plain HTTP
  std::optional<RegistryCredentials> credentials;
  absl::Duration connect_timeout = absl::Seconds(10);
  // A blob download that breaks is resumed with Range this many times, with
  // exponential backoff from retry_delay.
  int retries = 3;
  absl::Duration retry_delay = absl::Milliseconds(200);
};

struct FetchedManifest {
  std::string body;
  std::string media_type;  // the response's Content-Type
  Digest digest;           // of the body (checked against Docker-Content-Digest when sent)
};

class RegistryClient {
 public:
  // host: "registry-1.docker.io", "127.0.0.1:5000".
  RegistryClient(std::string host, RegistryOptions options);

  // GET /v2/<repository>/manifests/<reference> accepting OCI and Docker
  // manifests and indexes. reference: a tag or a digest; for a digest the body
  // must hash to it.
  absl::StatusOr<FetchedManifest> GetManifest(const std::string& repository,
                                              const std::string& reference);

  // GET /v2/<repository>/blobs/<digest>, each chunk to `sink` as it arrives,
  // starting at byte `offset` (Range) when > 0. `on_restart` is called when the
  // server ignores the Range and sends the whole blob (the caller discards what
  // it had), before any of it reaches `sink`. A connection that breaks is
  // resumed from where it stopped (options().retries times, with backoff).
  // Returns the blob's size so far (offset + bytes delivered).
  absl::StatusOr<int64_t> GetBlob(const std::string& repository, const Digest& digest,
                                  int64_t offset,
                                  const std::function<absl::Status(const char*, size_t)>& sink,
                                  const std::function<absl::Status()>& on_restart);

  const std::string& host() const { return host_; }
  const RegistryOptions& options() const { return options_; }

 private:
  struct Response {
    long status = 0;
    std::string content_type, docker_content_digest, www_authenticate;
  };
  absl::StatusOr<Response> Get(const std::string& url, const std::string& accept, int64_t offset,
                               const std::function<absl::Status(const char*, size_t)>& sink,
                               const std::string& scope,
                               const std::function<absl::Status(long)>* on_first_body);
  absl::Status Authenticate(const std::string& challenge, const std::string& scope);
  std::string BaseUrl() const;

  std::string host_;
  RegistryOptions options_;
  std::string bearer_token_;  // for the scope last authenticated
  std::string token_scope_;
};

// True for hosts spoken to over plain HTTP without being listed insecure.
bool IsLoopbackRegistry(const std::string& host);

}  // namespace berth::runtimed
