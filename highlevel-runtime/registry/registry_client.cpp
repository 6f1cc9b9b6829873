#include "highlevel-runtime/registry/registry_client.h"

#include <curl/curl.h>
#include <unistd.h>

#include <memory>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
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

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

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

// The first message of a registry error body ({"errors":[{"code","message"}]}).
std::string RegistryError(const std::string& body) {
  auto j = ParseJson(body, "registry error");
  if (j.ok() && j->is_object() && j->contains("errors") && (*j)["errors"].is_array() &&
      !(*j)["errors"].empty()) {
    const Json& e = (*j)["errors"][0];
    return absl::StrCat(e.value("code", ""), ": ", e.value("message", ""));
  }
  return std::string(absl::StripAsciiWhitespace(body.substr(0, 200)));
}

struct Transfer {
  RegistryClient* client;
  long status = 0;
  std::string content_type, docker_content_digest, www_authenticate;
  const std::function<absl::Status(const char*, size_t)>* sink = nullptr;
  const std::function<absl::Status(long)>* on_first_body = nullptr;
  bool body_started = false;
  std::string error_body;
  absl::Status sink_status;
  CURL* curl = nullptr;
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  absl::string_view line(data, size * n);
  if (absl::StartsWith(line, "HTTP/")) {  // a new response (after a redirect)
    t->content_type.clear();
    t->docker_content_digest.clear();
    t->www_authenticate.clear();
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return size * n;
  std::string key = absl::AsciiStrToLower(line.substr(0, colon));
  std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  if (key == "content-type") t->content_type = value;
  if (key == "docker-content-digest") t->docker_content_digest = value;
  if (key == "www-authenticate") t->www_authenticate = value;
  return size * n;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  t->status = status;
  if (status / 100 != 2) {
    if (t->error_body.size() < 64 * 1024) t->error_body.append(data, size * n);
    return size * n;
  }
  if (!t->body_started) {
    t->body_started = true;
    if (t->on_first_body != nullptr) {
      t->sink_status = (*t->on_first_body)(status);
      if (!t->sink_status.ok()) return 0;
    }
  }
  t->sink_status = (*t->sink)(data, size * n);
  return t->sink_status.ok() ? size * n : 0;  // 0 aborts the transfer
}

}  // namespace

bool IsLoopbackRegistry(const std::string& host) {
  absl::string_view h = host;
  if (absl::StartsWith(h, "[::1]")) return true;
  h = h.substr(0, h.find(':'));
  return h == "localhost" || absl::StartsWith(h, "127.");
}

RegistryClient::RegistryClient(std::string host, RegistryOptions options)
    : host_(std::move(host)), options_(std::move(options)) {
  GlobalInit();
}

std::string RegistryClient::BaseUrl() const {
  bool plain = options_.insecure || IsLoopbackRegistry(host_);
  return absl::StrCat(plain ? "http://" : "https://", host_, "/v2/");
}

absl::Status RegistryClient::Authenticate(const std::string& challenge, const std::string& scope) {
  if (absl::StartsWithIgnoreCase(challenge, "Basic")) {
    if (!options_.credentials) {
      return absl::PermissionDeniedError(
          absl::StrCat(host_, " wants credentials (basic auth) and none were given"));
    }
    bearer_token_.clear();
    token_scope_ = scope;
    return absl::OkStatus();
  }
  if (!absl::StartsWithIgnoreCase(challenge, "Bearer")) {
    return absl::PermissionDeniedError(
        absl::StrCat(host_, ": unsupported authentication challenge: ", challenge));
  }
  auto params = ChallengeParams(challenge);
  if (params["realm"].empty()) {
    return absl::PermissionDeniedError(absl::StrCat(host_, ": bearer challenge without realm"));
  }
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  std::string url = params["realm"];
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
  Transfer t{this};
  t.sink = &sink;
  t.curl = curl.get();
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &t);
  std::string userpwd;
  if (options_.credentials) {
    userpwd = absl::StrCat(options_.credentials->username, ":", options_.credentials->password);
    curl_easy_setopt(curl.get(), CURLOPT_USERPWD, userpwd.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
  }
  CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat("token from ", params["realm"], ": ", curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &t.status);
  if (t.status != 200) {
    return absl::PermissionDeniedError(absl::StrCat("token from ", params["realm"], ": HTTP ",
                                                    t.status, " ", RegistryError(t.error_body)));
  }
  BERTH_ASSIGN_OR_RETURN(Json j, ParseJson(body, "token response"));
  std::string token = j.value("token", "");
  if (token.empty()) token = j.value("access_token", "");
  if (token.empty()) {
    return absl::PermissionDeniedError(absl::StrCat("token from ", params["realm"], ": no token"));
  }
  bearer_token_ = token;
  token_scope_ = scope;
  return absl::OkStatus();
}

absl::StatusOr<RegistryClient::Response> RegistryClient::Get(
    const std::string& url, const std::string& accept, int64_t offset,
    const std::function<absl::Status(const char*, size_t)>& sink, const std::string& scope,
    const std::function<absl::Status(long)>* on_first_body) {
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) return absl::InternalError("curl_easy_init failed");
    Transfer t{this};
    t.sink = &sink;
    t.on_first_body = on_first_body;
    t.curl = curl.get();
    std::unique_ptr<curl_slist, SlistDeleter> headers;
    auto add_header = [&](const std::string& h) {
      headers.reset(curl_slist_append(headers.release(), h.c_str()));
    };
    if (!accept.empty()) add_header("Accept: " + accept);
    bool authorized = !token_scope_.empty() && token_scope_ == scope;
    if (authorized && !bearer_token_.empty()) add_header("Authorization: Bearer " + bearer_token_);
    std::string userpwd;
    if (authorized && bearer_token_.empty() && options_.credentials) {
      userpwd = absl::StrCat(options_.credentials->username, ":", options_.credentials->password);
      curl_easy_setopt(curl.get(), CURLOPT_USERPWD, userpwd.c_str());
      curl_easy_setopt(curl.get(), CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    }
    std::string range = absl::StrCat(offset, "-");
    if (offset > 0) curl_easy_setopt(curl.get(), CURLOPT_RANGE, range.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    // Blobs redirect to storage; curl drops Authorization on another host.
    curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
    // A transfer slower than 1 KiB/s for 30 s is broken.
    curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_TIME, 30L);
    curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &t);
    CURLcode rc = curl_easy_perform(curl.get());
    if (!t.sink_status.ok()) return t.sink_status;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &t.status);
    if (rc != CURLE_OK) {
      return absl::UnavailableError(absl::StrCat(url, ": ", curl_easy_strerror(rc)));
    }
    if (t.status == 401 && attempt == 0) {
      BERTH_RETURN_IF_ERROR(Authenticate(t.www_authenticate, scope));
      continue;
    }
    Response r;
    r.status = t.status;
    r.content_type = t.content_type;
    r.docker_content_digest = t.docker_content_digest;
    r.www_authenticate = t.www_authenticate;
    if (t.status / 100 == 2) return r;
    std::string what = absl::StrCat(url, ": HTTP ", t.status, " ", RegistryError(t.error_body));
    if (t.status == 404) return absl::NotFoundError(what);
    if (t.status == 401 || t.status == 403) return absl::PermissionDeniedError(what);
    if (t.status == 416) return absl::OutOfRangeError(what);
    if (t.status >= 500) return absl::UnavailableError(what);
    return absl::InvalidArgumentError(what);
  }
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
  std::string url = absl::StrCat(BaseUrl(), repository, "/manifests/", reference);
  auto response =
      Get(url, kManifestAccept, 0, sink, absl::StrCat("repository:", repository, ":pull"), nullptr);
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

absl::StatusOr<int64_t> RegistryClient::GetBlob(
    const std::string& repository, const Digest& digest, int64_t offset,
    const std::function<absl::Status(const char*, size_t)>& sink,
    const std::function<absl::Status()>& on_restart) {
  std::string url = absl::StrCat(BaseUrl(), repository, "/blobs/", digest.ToString());
  std::string scope = absl::StrCat("repository:", repository, ":pull");
  int64_t delivered = 0;
  absl::Duration delay = options_.retry_delay;
  for (int attempt = 0;; ++attempt) {
    int64_t from = offset + delivered;
    std::function<absl::Status(long)> on_first_body = [&](long status) {
      if (from > 0 && status == 200) {
        // The registry ignored Range and sends the whole blob: start over.
        BERTH_RETURN_IF_ERROR(on_restart());
        offset = 0;
        delivered = 0;
      }
      return absl::OkStatus();
    };
    std::function<absl::Status(const char*, size_t)> counted = [&](const char* d, size_t n) {
      delivered += static_cast<int64_t>(n);
      return sink(d, n);
    };
    auto response = Get(url, "", from, counted, scope, &on_first_body);
    if (response.ok()) return offset + delivered;
    absl::StatusCode code = response.status().code();
    bool transient = code == absl::StatusCode::kUnavailable;
    if (!transient || attempt >= options_.retries) return response.status();
    LogWarn("{}: {}; retrying from byte {} in {}", digest.ToString(), response.status().message(),
            offset + delivered, absl::FormatDuration(delay));
    absl::SleepFor(delay);
    delay *= 2;
  }
}

}  // namespace berth::runtimed
