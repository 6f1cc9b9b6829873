#include "engine/daemon/output_hub.h"

#include <algorithm>

namespace berth::engine {
namespace {
constexpr size_t kMaxBacklog = 64 << 20;
}

OutputSubscriber::Next OutputSubscriber::Pop(Chunk& out, absl::Duration timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
               [&] { return !chunks_.empty() || ended_; });
  if (!chunks_.empty()) {
    out = std::move(chunks_.front());
    chunks_.pop_front();
    bytes_ -= out.data.size();
    return Next::kChunk;
  }
  return ended_ ? Next::kEnd : Next::kTimeout;
}

std::shared_ptr<OutputSubscriber> OutputHub::Subscribe() {
  auto s = std::make_shared<OutputSubscriber>();
  std::lock_guard lock(mu_);
  subscribers_.push_back(s);
  return s;
}

void OutputHub::Unsubscribe(const std::shared_ptr<OutputSubscriber>& s) {
  std::lock_guard lock(mu_);
  subscribers_.erase(std::remove(subscribers_.begin(), subscribers_.end(), s), subscribers_.end());
}

void OutputHub::Publish(StreamKind stream, const std::string& data) {
  std::lock_guard lock(mu_);
  for (const auto& s : subscribers_) {
    std::lock_guard sub_lock(s->mu_);
    if (s->ended_ || s->bytes_ + data.size() > kMaxBacklog) continue;
    s->chunks_.push_back({stream, data});
    s->bytes_ += data.size();
    s->cv_.notify_one();
  }
}

void OutputHub::EndRun() {
  std::lock_guard lock(mu_);
  for (const auto& s : subscribers_) {
    std::lock_guard sub_lock(s->mu_);
    s->ended_ = true;
    s->cv_.notify_one();
  }
  subscribers_.clear();
}

}  // namespace berth::engine
