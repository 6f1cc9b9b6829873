// A client of the OCI distribution API (/v2/...) over libcurl: manifests and
// blobs of one registry host (blobs through registry/blob_downloads.h, which
// prepares its transfers here).
//
// Transport, as docker does it: HTTPS, verified against the system's CAs plus
// the registry's own from docker's certs.d layout (<certs_dir>/<host:port>/:
// every *.crt is a CA, NAME.cert + NAME.key a client certificate). A registry
// marked insecure is tried over HTTPS without verification, then over plain
// HTTP. Registries on 127.0.0.0/8 and localhost may fall back to plain HTTP
// too, but when they speak TLS their certificate is verified (docker skips
// verification for them as well; berth wants the CA or --insecure-registry).
// The scheme is settled by the first request and kept.
//
// Authentication, as docker does it: anonymous first; on 401 with
// `WWW-Authenticate: Bearer realm=..,service=..,scope=..` a token is fetched
// from the realm (with the basic credentials, if any; over the same TLS
// settings) and the request retried; on `WWW-Authenticate: Basic` the
// credentials are sent directly. Refused credentials are PermissionDenied,
// naming the registry.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/digest.h"
#include "highlevel-runtime/registry/http_transfer.h"

namespace berth::runtimed {

struct RegistryCredentials {
  std::string username, password;
};

// Docker's directory of per-registry certificates.
inline constexpr char kDefaultRegistryCertsDir[] = "/etc/docker/certs.d";
// The certs dir pulls use when not told otherwise (berth-runtimed's
// --registry-certs-dir); kDefaultRegistryCertsDir until set.
void SetDefaultRegistryCertsDir(std::string dir);
std::string DefaultRegistryCertsDir();

struct RegistryOptions {
  // Docker's insecure registry: TLS without verification, then plain HTTP;
  // certs_dir is not read.
  bool insecure = false;
  // <certs_dir>/<host>/{*.crt, *.cert + *.key}; empty: only the system's CAs.
  std::string certs_dir;
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

  // What a GET on one handle needs while it runs (Prepare fills it).
  struct Request {
    std::string url;
    CurlSlist headers;
    std::string userpwd, range;
  };
  // Sets up `curl` for GET <scheme>://host/v2/<path>: the scheme settled so
  // far, this registry's TLS options, the credentials or token held for
  // `scope`, Accept (when not empty), Range from `offset` (when > 0),
  // timeouts, redirects. The caller attaches an HttpTransfer.
  void Prepare(CURL* curl, const std::string& path, const std::string& accept, int64_t offset,
               const std::string& scope, Request& request) const;
  // The status for a request that ended with a transport error (rc).
  absl::Status TransportError(const std::string& url, CURLcode rc, const HttpTransfer& t) const;
  // The status for a request answered with a non-2xx status.
  absl::Status ResponseError(const std::string& url, const HttpTransfer& t,
                             const std::string& scope) const;
  // Answers a 401's WWW-Authenticate challenge: fetches a token for scope
  // (bearer) or sends the credentials from now on (basic).
  absl::Status Authenticate(const std::string& challenge, const std::string& scope);
  // Settles HTTPS or plain HTTP (and authenticates for scope) with GET /v2/
  // when no request has settled it yet; a no-op after.
  absl::Status Settle(const std::string& scope);

  const std::string& host() const { return host_; }
  const RegistryOptions& options() const { return options_; }

 private:
  struct Response {
    long status = 0;
    std::string content_type, docker_content_digest;
  };
  // GET https?://host/v2/<path>, probing the scheme and answering a challenge.
  absl::StatusOr<Response> Get(const std::string& path, const std::string& accept,
                               const std::function<absl::Status(const char*, size_t)>& sink,
                               const std::string& scope);
  // The TLS options of this registry on a handle about to speak HTTPS.
  void ConfigureTls(CURL* curl) const;
  absl::Status TlsVerificationError(const std::string& url, const std::string& why) const;
  absl::Status LoadCertsDir();

  std::string host_;
  RegistryOptions options_;
  // kProbe: HTTPS is tried first, plain HTTP if it cannot connect.
  enum class Scheme { kProbe, kHttps, kHttp } scheme_ = Scheme::kHttps;
  absl::Status certs_status_;  // what reading certs_dir found wrong
  std::string ca_pem_;         // the system's CAs and the registry's *.crt; empty: curl's own
  std::string client_cert_, client_key_;  // paths
  std::string challenge_kind_;            // "basic" or "bearer", once challenged
  std::string bearer_token_;              // for the scope last authenticated
  std::string token_scope_;
};

// True for hosts spoken to over plain HTTP without being listed insecure.
bool IsLoopbackRegistry(const std::string& host);

}  // namespace berth::runtimed
