#include "highlevel-runtime/registry/blob_downloads.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/log.h"

namespace berth::runtimed {
namespace {

// curl's read buffer per transfer: fewer, larger writes to the ingests.
constexpr long kBufferSize = 256 * 1024;
// curl_multi_poll's longest wait, so a due retry is never late by more.
constexpr absl::Duration kMaxPoll = absl::Milliseconds(500);

class Downloader {
 public:
  Downloader(RegistryClient& client, const std::string& repository,
             std::vector<BlobDownload>& downloads, int parallel)
      : client_(client),
        repository_(repository),
        scope_(absl::StrCat("repository:", repository, ":pull")),
        downloads_(downloads),
        parallel_(std::max(1, parallel)),
        blobs_(downloads.size()),
        results_(downloads.size()) {
    for (size_t i = 0; i < downloads.size(); ++i) {
      blobs_[i].position = downloads[i].offset;
      blobs_[i].delay = client.options().retry_delay;
    }
  }

  std::vector<absl::Status> Run();

 private:
  // What one blob's downloads have got so far.
  struct Blob {
    int64_t position = 0;  // bytes the caller has: the next request's Range
    int retries = 0;
    absl::Duration delay;
    absl::Time not_before = absl::InfinitePast();
    bool authenticated = false;  // a 401 was answered in this attempt
    bool active = false, finished = false;
  };
  // One GET in flight.
  struct Transfer {
    size_t index = 0;
    CurlEasy curl;
    RegistryClient::Request request;
    HttpTransfer http;
  };

  void Start(size_t i);
  void Finished(Transfer& transfer, CURLcode rc);
  void RetryLater(size_t i, const absl::Status& why);
  void Done(size_t i, absl::Status status);

  RegistryClient& client_;
  const std::string& repository_;
  std::string scope_;
  std::vector<BlobDownload>& downloads_;
  int parallel_;
  std::vector<Blob> blobs_;
  std::vector<absl::Status> results_;
  CurlMulti multi_;
  std::vector<std::unique_ptr<Transfer>> active_;
  size_t remaining_ = 0;
};

std::vector<absl::Status> Downloader::Run() {
  remaining_ = downloads_.size();
  if (remaining_ == 0) return results_;
  if (absl::Status settled = client_.Settle(scope_); !settled.ok()) {
    return std::vector<absl::Status>(downloads_.size(), settled);
  }
  multi_.reset(curl_multi_init());
  if (!multi_) {
    return std::vector<absl::Status>(downloads_.size(),
                                     absl::InternalError("curl_multi_init failed"));
  }
  while (remaining_ > 0) {
    // Start what is due, in order, while there is room.
    absl::Time now = absl::Now();
    absl::Time next_due = absl::InfiniteFuture();
    for (size_t i = 0; i < blobs_.size(); ++i) {
      Blob& b = blobs_[i];
      if (b.active || b.finished) continue;
      if (b.not_before <= now && static_cast<int>(active_.size()) < parallel_) {
        Start(i);
      } else if (b.not_before > now) {
        next_due = std::min(next_due, b.not_before);
      }
    }
    if (remaining_ == 0) break;
    if (active_.empty()) {  // only retries waiting for their time
      absl::SleepFor(std::max(absl::ZeroDuration(), next_due - absl::Now()));
      continue;
    }
    int running = 0;
    CURLMcode mc = curl_multi_perform(multi_.get(), &running);
    if (mc != CURLM_OK) {
      absl::Status failed =
          absl::InternalError(absl::StrCat("curl_multi_perform: ", curl_multi_strerror(mc)));
      while (!active_.empty()) {
        curl_multi_remove_handle(multi_.get(), active_.back()->curl.get());
        Done(active_.back()->index, failed);
        active_.pop_back();
      }
      continue;
    }
    bool freed = false;
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      auto it = std::find_if(active_.begin(), active_.end(),
                             [&](const auto& t) { return t->curl.get() == msg->easy_handle; });
      if (it == active_.end()) continue;
      CURLcode rc = msg->data.result;
      std::unique_ptr<Transfer> transfer = std::move(*it);
      active_.erase(it);
      curl_multi_remove_handle(multi_.get(), transfer->curl.get());
      Finished(*transfer, rc);
      freed = true;
    }
    if (freed) continue;
    absl::Duration wait = std::min(kMaxPoll, next_due - absl::Now());
    int wait_ms = static_cast<int>(std::max<int64_t>(0, absl::ToInt64Milliseconds(wait)));
    curl_multi_poll(multi_.get(), nullptr, 0, wait_ms, nullptr);
  }
  return results_;
}

void Downloader::Start(size_t i) {
  Blob& blob = blobs_[i];
  auto t = std::make_unique<Transfer>();
  t->index = i;
  t->curl.reset(curl_easy_init());
  if (!t->curl) return Done(i, absl::InternalError("curl_easy_init failed"));
  std::string path = absl::StrCat(repository_, "/blobs/", downloads_[i].digest.ToString());
  client_.Prepare(t->curl.get(), path, "", blob.position, scope_, t->request);
  curl_easy_setopt(t->curl.get(), CURLOPT_BUFFERSIZE, kBufferSize);
  t->http.sink = [this, i](const char* data, size_t n) {
    blobs_[i].position += static_cast<int64_t>(n);
    return downloads_[i].sink(data, n);
  };
  t->http.on_first_body = [this, i, from = blob.position](long status) {
    if (from > 0 && status == 200) {
      // The registry ignored Range and sends the whole blob: start over.
      blobs_[i].position = 0;
      return downloads_[i].on_restart();
    }
    return absl::OkStatus();
  };
  t->http.Attach(t->curl.get());
  CURLMcode mc = curl_multi_add_handle(multi_.get(), t->curl.get());
  if (mc != CURLM_OK) {
    return Done(
        i, absl::InternalError(absl::StrCat("curl_multi_add_handle: ", curl_multi_strerror(mc))));
  }
  blob.active = true;
  active_.push_back(std::move(t));
}

void Downloader::Finished(Transfer& transfer, CURLcode rc) {
  size_t i = transfer.index;
  blobs_[i].active = false;
  HttpTransfer& t = transfer.http;
  if (!t.sink_status.ok()) return Done(i, t.sink_status);
  curl_easy_getinfo(transfer.curl.get(), CURLINFO_RESPONSE_CODE, &t.status);
  const std::string& url = transfer.request.url;
  if (rc != CURLE_OK) {
    absl::Status failed = client_.TransportError(url, rc, t);
    if (IsTlsTrustError(rc)) return Done(i, failed);  // no retry makes it trusted
    return RetryLater(i, failed);
  }
  if (t.status == 401 && !blobs_[i].authenticated) {
    // The token expired or was never asked for this scope: once more, with one.
    blobs_[i].authenticated = true;
    absl::Status authenticated = client_.Authenticate(t.www_authenticate, scope_);
    if (!authenticated.ok()) return Done(i, authenticated);
    blobs_[i].not_before = absl::InfinitePast();
    return;
  }
  if (t.status / 100 != 2) {
    absl::Status refused = client_.ResponseError(url, t, scope_);
    if (refused.code() == absl::StatusCode::kUnavailable) return RetryLater(i, refused);
    return Done(i, refused);
  }
  Done(i, downloads_[i].on_complete());
}

void Downloader::RetryLater(size_t i, const absl::Status& why) {
  Blob& b = blobs_[i];
  if (b.retries >= client_.options().retries) return Done(i, why);
  ++b.retries;
  b.authenticated = false;  // a token may expire during a long retry: one 401 per attempt
  LogWarn("{}: {}; retrying from byte {} in {}", downloads_[i].digest.ToString(), why.message(),
          b.position, absl::FormatDuration(b.delay));
  b.not_before = absl::Now() + b.delay;
  b.delay *= 2;
}

void Downloader::Done(size_t i, absl::Status status) {
  blobs_[i].active = false;
  blobs_[i].finished = true;
  results_[i] = std::move(status);
  --remaining_;
}

}  // namespace

std::vector<absl::Status> DownloadBlobs(RegistryClient& client, const std::string& repository,
                                        std::vector<BlobDownload>& downloads, int parallel) {
  return Downloader(client, repository, downloads, parallel).Run();
}

}  // namespace berth::runtimed
