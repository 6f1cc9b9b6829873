#include "highlevel-runtime/registry/http_transfer.h"

#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/json.h"

namespace berth::runtimed {
namespace {

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<HttpTransfer*>(user);
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
  auto* t = static_cast<HttpTransfer*>(user);
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  t->status = status;
  if (status / 100 != 2) {
    if (t->error_body.size() < 64 * 1024) t->error_body.append(data, size * n);
    return size * n;
  }
  if (!t->body_started) {
    t->body_started = true;
    if (t->on_first_body) {
      t->sink_status = t->on_first_body(status);
      if (!t->sink_status.ok()) return 0;
    }
  }
  t->sink_status = t->sink(data, size * n);
  return t->sink_status.ok() ? size * n : 0;  // 0 aborts the transfer
}

}  // namespace

void CurlGlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

void HttpTransfer::Attach(CURL* handle) {
  curl = handle;
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, this);
}

std::string HttpTransfer::CurlError(CURLcode rc) const {
  return error[0] != '\0' ? std::string(error) : curl_easy_strerror(rc);
}

bool IsTlsTrustError(CURLcode rc) {
  return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
         rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_ISSUER_ERROR ||
         rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH || rc == CURLE_SSL_INVALIDCERTSTATUS;
}

std::string RegistryErrorMessage(const std::string& body) {
  auto j = ParseJson(body, "registry error");
  if (j.ok() && j->is_object() && j->contains("errors") && (*j)["errors"].is_array() &&
      !(*j)["errors"].empty()) {
    const Json& e = (*j)["errors"][0];
    return absl::StrCat(e.value("code", ""), ": ", e.value("message", ""));
  }
  return std::string(absl::StripAsciiWhitespace(body.substr(0, 200)));
}

}  // namespace berth::runtimed
