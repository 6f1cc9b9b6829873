#include "highlevel-runtime/registry/registry_client.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/fd_util.h"
#include "common/json.h"
#include "common/log.h"
#include "common/status.h"

namespace berth::runtimed {
namespace {

constexpr size_t kMaxManifestSize = 4 << 20;
constexpr char kManifestAccept[] =
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

// key="value" pairs of a WWW-Authenticate challenge after its scheme.
std::map<std::string, std::string> ChallengeParams(absl::string_view challenge) {
  std::map<std::string, std::string> params;
  size_t space = challenge.find(' ');
  absl::string_view rest = space == absl::string_view::npos ? "" : challenge.substr(space + 1);
  while (!rest.empty()) {
    rest = absl::StripLeadingAsciiWhitespace(rest);
    size_t eq = rest.find('=');
    if (eq == absl::string_view::npos) break;
    std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(rest.substr(0, eq)));
    rest.remove_prefix(eq + 1);
    std::string value;
    if (!rest.empty() && rest[0] == '"') {
      size_t end = rest.find('"', 1);
      if (end == absl::string_view::npos) break;
      value = std::string(rest.substr(1, end - 1));
      rest.remove_prefix(end + 1);
    } else {
      size_t end = rest.find(',');
      value = std::string(absl::StripAsciiWhitespace(rest.substr(0, end)));
      rest.remove_prefix(end == absl::string_view::npos ? rest.size() : end);
    }
    params[key] = value;
    rest = absl::StripLeadingAsciiWhitespace(rest);
    if (!rest.empty() && rest[0] == ',') rest.remove_prefix(1);
  }
  return params;
}

std::string Escape(CURL* curl, const std::string& s) {
  char* e = curl_easy_escape(curl, s.c_str(), static_cast<int>(s.size()));
  std::string out = e != nullptr ? e : "";
  curl_free(e);
  return out;
}

// "repository:busybox:pull" -> {"busybox", "pull"}.
std::pair<std::string, std::string> ScopeParts(absl::string_view scope) {
  size_t first = scope.find(':'), last = scope.rfind(':');
  if (first == absl::string_view::npos || last == first) return {std::string(scope), ""};
  return {std::string(scope.substr(first + 1, last - first - 1)),
          std::string(scope.substr(last + 1))};
}

std::mutex default_certs_dir_mutex;
std::string& DefaultCertsDirLocked() {
  static auto* dir = new std::string(kDefaultRegistryCertsDir);
  return *dir;
}

}  // namespace

bool IsLoopbackRegistry(const std::string& host) {
  absl::string_view h = host;
  if (absl::StartsWith(h, "[::1]")) return true;
  h = h.substr(0, h.find(':'));
  return h == "localhost" || absl::StartsWith(h, "127.");
}

void SetDefaultRegistryCertsDir(std::string dir) {
  std::lock_guard<std::mutex> lock(default_certs_dir_mutex);
  DefaultCertsDirLocked() = std::move(dir);
}

std::string DefaultRegistryCertsDir() {
  std::lock_guard<std::mutex> lock(default_certs_dir_mutex);
  return DefaultCertsDirLocked();
}

RegistryClient::RegistryClient(std::string host, RegistryOptions options)
    : host_(std::move(host)), options_(std::move(options)) {
  CurlGlobalInit();
  if (options_.insecure || IsLoopbackRegistry(host_)) scheme_ = Scheme::kProbe;
  // As docker: an insecure registry's certificates are not verified, so not read.
  if (!options_.insecure) certs_status_ = LoadCertsDir();
}

absl::Status RegistryClient::LoadCertsDir() {
  if (options_.certs_dir.empty()) return absl::OkStatus();
  namespace fs = std::filesystem;
  fs::path dir = fs::path(options_.certs_dir) / host_;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return absl::OkStatus();
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) files.push_back(e.path());
  if (ec) return ErrnoError(ec.value(), absl::StrCat("read ", dir.string()));
  std::sort(files.begin(), files.end());
  std::string cas;
  for (const fs::path& f : files) {
    std::string ext = f.extension().string();
    if (ext == ".crt") {
      auto pem = ReadFileToString(f.string());
      if (!pem.ok()) return Annotate(pem.status(), absl::StrCat(host_, ": CA certificate"));
      absl::StrAppend(&cas, *pem, "\n");
    } else if (ext == ".cert") {
      fs::path key = fs::path(f).replace_extension(".key");
      if (!fs::exists(key, ec)) {
        return absl::FailedPreconditionError(
            absl::StrCat("missing key ", key.string(), " for client certificate ", f.string(),
                         " (CA certificates must use the extension .crt)"));
      }
      if (client_cert_.empty()) {  // docker offers them all; curl takes one
        client_cert_ = f.string();
        client_key_ = key.string();
      }
    } else if (ext == ".key") {
      fs::path cert = fs::path(f).replace_extension(".cert");
      if (!fs::exists(cert, ec)) {
        return absl::FailedPreconditionError(
            absl::StrCat("missing client certificate ", cert.string(), " for key ", f.string()));
      }
    }
  }
  if (cas.empty()) return absl::OkStatus();
  // The registry's CAs are trusted besides the system's (as docker does), so
  // redirects to storage on other hosts still verify: curl's default bundle
  // goes first, then them, all in one PEM blob.
  std::string system_bundle = "/etc/ssl/certs/ca-certificates.crt";
#if LIBCURL_VERSION_NUM >= 0x075400  // 7.84: CURLINFO_CAINFO
  CurlEasy curl(curl_easy_init());
  char* built_in = nullptr;
  if (curl && curl_easy_getinfo(curl.get(), CURLINFO_CAINFO, &built_in) == CURLE_OK &&
      built_in != nullptr) {
    system_bundle = built_in;
  }
#endif
  auto system = ReadFileToString(system_bundle);
  if (system.ok()) absl::StrAppend(&ca_pem_, *system, "\n");
  absl::StrAppend(&ca_pem_, cas);
  return absl::OkStatus();
}

void RegistryClient::ConfigureTls(CURL* curl) const {
  if (options_.insecure) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    return;
  }
  if (!ca_pem_.empty()) {
    curl_blob blob{const_cast<char*>(ca_pem_.data()), ca_pem_.size(), CURL_BLOB_COPY};
    curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (!client_cert_.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, client_cert_.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, client_key_.c_str());
  }
}

absl::Status RegistryClient::TlsVerificationError(const std::string& url,
                                                  const std::string& why) const {
  std::string where = options_.certs_dir.empty()
                          ? std::string("a certs dir (berth-runtimed --registry-certs-dir)")
                          : (std::filesystem::path(options_.certs_dir) / host_ / "ca.crt").string();
  return absl::UnavailableError(absl::StrCat(
      url, ": cannot verify the registry's TLS certificate: ", why, "; put its CA certificate in ",
      where, ", or mark ", host_, " an insecure registry"));
}

absl::Status RegistryClient::Authenticate(const std::string& challenge, const std::string& scope) {
  if (absl::StartsWithIgnoreCase(challenge, "Basic")) {
    challenge_kind_ = "basic";
    if (!options_.credentials) {
      return absl::PermissionDeniedError(absl::StrCat(
          host_, " requires authentication (basic auth) and no credentials were given"));
    }
    bearer_token_.clear();
    token_scope_ = scope;
    return absl::OkStatus();
  }
  if (!absl::StartsWithIgnoreCase(challenge, "Bearer")) {
    return absl::PermissionDeniedError(
        absl::StrCat(host_, ": unsupported authentication challenge: \"", challenge, "\""));
  }
  challenge_kind_ = "bearer";
  auto params = ChallengeParams(challenge);
  const std::string& realm = params["realm"];
  if (realm.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(host_, ": bearer challenge without realm"));
  }
  CurlEasy curl(curl_easy_init());
  if (!curl) return absl::InternalError("curl_easy_init failed");
  std::string url = realm;
  const char* sep = absl::StrContains(url, '?') ? "&" : "?";
  if (!params["service"].empty()) {
    absl::StrAppend(&url, sep, "service=", Escape(curl.get(), params["service"]));
    sep = "&";
  }
  std::string want_scope = params["scope"].empty() ? scope : params["scope"];
  if (!want_scope.empty()) absl::StrAppend(&url, sep, "scope=", Escape(curl.get(), want_scope));
  std::string body;
  std::function<absl::Status(const char*, size_t)> sink = [&](const char* d, size_t n) {
    if (body.size() + n > kMaxManifestSize) return absl::ResourceExhaustedError("token too big");
    body.append(d, n);
    return absl::OkStatus();
  };
  HttpTransfer t;
  t.sink = sink;
  t.Attach(curl.get());
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 60L);
  // The token service is reached with the registry's TLS settings, as docker does.
  if (absl::StartsWithIgnoreCase(realm, "https://")) ConfigureTls(curl.get());
  std::string userpwd;
  if (options_.credentials) {
    userpwd = absl::StrCat(options_.credentials->username, ":", options_.credentials->password);
    curl_easy_setopt(curl.get(), CURLOPT_USERPWD, userpwd.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
  }
  CURLcode rc = curl_easy_perform(curl.get());
  if (!t.sink_status.ok()) return t.sink_status;
  if (rc != CURLE_OK) {
    if (IsTlsTrustError(rc)) return TlsVerificationError(realm, t.CurlError(rc));
    return absl::UnavailableError(
        absl::StrCat(host_, ": token server ", realm, ": ", t.CurlError(rc)));
  }
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &t.status);
  if (t.status != 200) {
    std::string answer = absl::StrCat("HTTP ", t.status, " ", RegistryErrorMessage(t.error_body));
    if (t.status == 401 || t.status == 403) {
      if (!options_.credentials) {
        return absl::PermissionDeniedError(absl::StrCat(host_, ": token server ", realm,
                                                        " requires credentials and none were "
                                                        "given: ",
                                                        answer));
      }
      return absl::PermissionDeniedError(
          absl::StrCat(host_, ": token server ", realm, " refused the credentials of user \"",
                       options_.credentials->username, "\": ", answer));
    }
    if (t.status >= 500) {
      return absl::UnavailableError(absl::StrCat(host_, ": token server ", realm, ": ", answer));
    }
    return absl::PermissionDeniedError(absl::StrCat(host_, ": token server ", realm, ": ", answer));
  }
  auto j = ParseJson(body, "token response");
  if (!j.ok() || !j->is_object()) {
    return absl::PermissionDeniedError(
        absl::StrCat(host_, ": token server ", realm, ": the answer is not a JSON object"));
  }
  std::string token;
  for (const char* key : {"token", "access_token"}) {
    if (token.empty() && j->contains(key) && (*j)[key].is_string()) {
      token = (*j)[key].get<std::string>();
    }
  }
  if (token.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat(host_, ": token server ", realm, " answered without a token"));
  }
  bearer_token_ = token;
  token_scope_ = scope;
  return absl::OkStatus();
}

void RegistryClient::Prepare(CURL* curl, const std::string& path, const std::string& accept,
                             int64_t offset, const std::string& scope, Request& request) const {
  bool https = scheme_ != Scheme::kHttp;
  request.url = absl::StrCat(https ? "https://" : "http://", host_, "/v2/", path);
  request.headers.reset();
  auto add_header = [&](const std::string& h) {
    request.headers.reset(curl_slist_append(request.headers.release(), h.c_str()));
  };
  if (!accept.empty()) add_header("Accept: " + accept);
  bool authorized = !token_scope_.empty() && token_scope_ == scope;
  if (authorized && !bearer_token_.empty()) add_header("Authorization: Bearer " + bearer_token_);
  if (authorized && bearer_token_.empty() && options_.credentials) {
    request.userpwd =
        absl::StrCat(options_.credentials->username, ":", options_.credentials->password);
    curl_easy_setopt(curl, CURLOPT_USERPWD, request.userpwd.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
  }
  if (offset > 0) {
    request.range = absl::StrCat(offset, "-");
    curl_easy_setopt(curl, CURLOPT_RANGE, request.range.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, request.headers.get());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  // Blobs redirect to storage; curl drops Authorization on another host.
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
  // A transfer slower than 1 KiB/s for 30 s is broken.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 30L);
  if (https) ConfigureTls(curl);
}

absl::Status RegistryClient::TransportError(const std::string& url, CURLcode rc,
                                            const HttpTransfer& t) const {
  std::string why = t.CurlError(rc);
  // A registry that speaks TLS but is not trusted.
  if (absl::StartsWith(url, "https://") && IsTlsTrustError(rc)) {
    return TlsVerificationError(url, why);
  }
  return absl::UnavailableError(absl::StrCat(url, ": ", why));
}

absl::Status RegistryClient::ResponseError(const std::string& url, const HttpTransfer& t,
                                           const std::string& scope) const {
  std::string what =
      absl::StrCat(url, ": HTTP ", t.status, " ", RegistryErrorMessage(t.error_body));
  if (t.status == 401) {
    // Still refused once authenticated.
    auto [repository, action] = ScopeParts(scope);
    if (challenge_kind_ == "basic" && options_.credentials) {
      return absl::PermissionDeniedError(absl::StrCat(host_, " refused the credentials of user \"",
                                                      options_.credentials->username,
                                                      "\" (basic auth): ", what));
    }
    if (!options_.credentials) {
      return absl::PermissionDeniedError(absl::StrCat(host_, ": ", action, " access to ",
                                                      repository,
                                                      " requires authentication and no "
                                                      "credentials were given: ",
                                                      what));
    }
    return absl::PermissionDeniedError(absl::StrCat(host_, ": ", action, " access to ", repository,
                                                    " denied to user \"",
                                                    options_.credentials->username, "\": ", what));
  }
  if (t.status == 404) return absl::NotFoundError(what);
  if (t.status == 403) return absl::PermissionDeniedError(what);
  if (t.status == 416) return absl::OutOfRangeError(what);
  if (t.status >= 500) return absl::UnavailableError(what);
  return absl::InvalidArgumentError(what);
}

absl::StatusOr<RegistryClient::Response> RegistryClient::Get(
    const std::string& path, const std::string& accept,
    const std::function<absl::Status(const char*, size_t)>& sink, const std::string& scope) {
  BERTH_RETURN_IF_ERROR(certs_status_);
  bool authenticated = false;  // this request already answered a challenge
  std::string https_error;     // why HTTPS failed, once fallen back to HTTP
  for (;;) {
    bool https = scheme_ != Scheme::kHttp;
    CurlEasy curl(curl_easy_init());
    if (!curl) return absl::InternalError("curl_easy_init failed");
    Request request;
    Prepare(curl.get(), path, accept, 0, scope, request);
    HttpTransfer t;
    t.sink = sink;
    t.Attach(curl.get());
    CURLcode rc = curl_easy_perform(curl.get());
    if (!t.sink_status.ok()) return t.sink_status;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &t.status);
    if (rc != CURLE_OK) {
      std::string why = t.CurlError(rc);
      // Falling back to plain HTTP would only hide why TLS is not trusted.
      if (https && IsTlsTrustError(rc)) return TlsVerificationError(request.url, why);
      if (scheme_ == Scheme::kProbe && t.status == 0) {
        LogDebug("{}: {}; trying plain HTTP", request.url, why);
        https_error = why;
        scheme_ = Scheme::kHttp;
        continue;
      }
      if (!https_error.empty()) {
        return absl::UnavailableError(
            absl::StrCat(host_, ": over HTTPS: ", https_error, "; over HTTP: ", why));
      }
      return absl::UnavailableError(absl::StrCat(request.url, ": ", why));
    }
    if (scheme_ == Scheme::kProbe) scheme_ = Scheme::kHttps;
    if (!https_error.empty() && t.status == 400 &&
        absl::StrContains(t.error_body, "HTTP request to an HTTPS server")) {
      // It speaks TLS after all: the TLS connection failed for another reason
      // than trust, most often a client certificate it wants.
      scheme_ = Scheme::kProbe;
      std::string where = options_.certs_dir.empty()
                              ? std::string("the registry's certs dir")
                              : (std::filesystem::path(options_.certs_dir) / host_).string();
      return absl::UnavailableError(absl::StrCat(
          "https://", host_, "/v2/", path,
          ": the registry speaks TLS but the connection failed: ", https_error,
          "; if it requires a client certificate, put client.cert and client.key in ", where));
    }
    if (t.status == 401 && !authenticated) {
      authenticated = true;
      BERTH_RETURN_IF_ERROR(Authenticate(t.www_authenticate, scope));
      continue;
    }
    if (t.status / 100 != 2) return ResponseError(request.url, t, scope);
    return Response{t.status, t.content_type, t.docker_content_digest};
  }
}

absl::Status RegistryClient::Settle(const std::string& scope) {
  if (scheme_ != Scheme::kProbe) return absl::OkStatus();
  auto pinged = Get(
      "", "", [](const char*, size_t) { return absl::OkStatus(); }, scope);
  return pinged.ok() ? absl::OkStatus() : pinged.status();
}

absl::StatusOr<FetchedManifest> RegistryClient::GetManifest(const std::string& repository,
                                                            const std::string& reference) {
  std::string body;
  std::function<absl::Status(const char*, size_t)> sink = [&](const char* d, size_t n) {
    if (body.size() + n > kMaxManifestSize) {
      return absl::ResourceExhaustedError(
          absl::StrCat("manifest ", repository, ":", reference, " is over 4 MiB"));
    }
    body.append(d, n);
    return absl::OkStatus();
  };
  auto response = Get(absl::StrCat(repository, "/manifests/", reference), kManifestAccept, sink,
                      absl::StrCat("repository:", repository, ":pull"));
  if (!response.ok()) {
    if (response.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("manifest for ", host_, "/", repository, ":",
                                              reference,
                                              " not found: ", response.status().message()));
    }
    return response.status();
  }
  FetchedManifest m;
  m.body = std::move(body);
  m.media_type = std::string(absl::StripAsciiWhitespace(
      absl::string_view(response->content_type).substr(0, response->content_type.find(';'))));
  m.digest = Sha256Of(m.body);
  if (absl::StartsWith(reference, "sha256:") && reference != m.digest.ToString()) {
    return absl::DataLossError(absl::StrCat("manifest ", repository, "@", reference,
                                            ": content hashes to ", m.digest.ToString()));
  }
  if (auto sent = ParseDigest(response->docker_content_digest); sent.ok() && !(*sent == m.digest)) {
    return absl::DataLossError(absl::StrCat("manifest ", repository, ":", reference,
                                            ": registry says ", sent->ToString(),
                                            ", content hashes to ", m.digest.ToString()));
  }
  return m;
}

}  // namespace berth::runtimed
