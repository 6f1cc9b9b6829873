// One HTTP GET on a curl easy handle, as the registry client and the blob
// downloads both run it: RAII for curl's handles, the state its callbacks
// fill (status, the headers the distribution API uses, a 2xx body streamed to
// a sink, an error body kept for the message), and curl's errors in words.
#pragma once

#include <curl/curl.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"

namespace berth::runtimed {

struct CurlEasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct CurlMultiDeleter {
  void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiDeleter>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// curl_global_init, once per process, before any handle.
void CurlGlobalInit();

struct HttpTransfer {
  // Each chunk of a 2xx body.
  std::function<absl::Status(const char*, size_t)> sink;
  // Called with the status before the first chunk of a 2xx body reaches sink
  // (e.g. to see that a Range was ignored); optional.
  std::function<absl::Status(long)> on_first_body;

  long status = 0;
  std::string content_type, docker_content_digest, www_authenticate;
  bool body_started = false;
  std::string error_body;    // the body of a non-2xx answer, its first 64 KiB
  absl::Status sink_status;  // why a callback aborted the transfer
  CURL* curl = nullptr;
  char error[CURL_ERROR_SIZE] = {};

  // Points curl's header, body and error-buffer options at this transfer.
  void Attach(CURL* handle);
  // curl's detailed message for rc (its error buffer), else the generic one.
  std::string CurlError(CURLcode rc) const;
};

// The server's certificate (or chain, or name) could not be verified, or the
// CA or client files could not be used: HTTPS works, it is not trusted.
bool IsTlsTrustError(CURLcode rc);

// The first message of a registry error body ({"errors":[{"code","message"}]}),
// else the body's start.
std::string RegistryErrorMessage(const std::string& body);

}  // namespace berth::runtimed
