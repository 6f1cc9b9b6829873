#include "highlevel-runtime/events/event_bus.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/time/clock.h"

namespace berth::runtimed {

namespace api = berth::runtime::v1;

std::optional<api::Envelope> EventBus::Subscription::Next(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
               [&] { return !queue_.empty() || closed_; });
  if (queue_.empty()) return std::nullopt;
  api::Envelope e = std::move(queue_.front());
  queue_.pop_front();
  return e;
}

bool EventBus::Subscription::Closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_ && queue_.empty();
}

std::shared_ptr<EventBus::Subscription> EventBus::Subscribe(std::vector<std::string> topics,
                                                            std::vector<std::string> namespaces) {
  auto s = std::make_shared<Subscription>();
  s->topics_ = std::move(topics);
  s->namespaces_ = std::move(namespaces);
  std::lock_guard<std::mutex> lock(mu_);
  subscriptions_.insert(s);
  return s;
}

void EventBus::Unsubscribe(const std::shared_ptr<Subscription>& s) {
  std::lock_guard<std::mutex> lock(mu_);
  subscriptions_.erase(s);
}

void EventBus::Publish(api::Envelope envelope) {
  if (!envelope.has_timestamp()) {
    int64_t now = absl::ToUnixNanos(absl::Now());
    envelope.mutable_timestamp()->set_seconds(now / 1000000000);
    envelope.mutable_timestamp()->set_nanos(static_cast<int32_t>(now % 1000000000));
  }
  // Under the bus lock, so every subscriber sees events in one order.
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& s : subscriptions_) {
    bool topic = s->topics_.empty() ||
                 std::any_of(s->topics_.begin(), s->topics_.end(), [&](const std::string& t) {
                   return absl::StartsWith(envelope.topic(), t);
                 });
    bool ns = s->namespaces_.empty() || std::find(s->namespaces_.begin(), s->namespaces_.end(),
                                                  envelope.namespace_()) != s->namespaces_.end();
    if (!topic || !ns) continue;
    std::lock_guard<std::mutex> sl(s->mu_);
    if (s->closed_) continue;
    if (s->queue_.size() >= kMaxQueued) {
      s->closed_ = true;  // too far behind: end its stream
    } else {
      s->queue_.push_back(envelope);
    }
    s->cv_.notify_one();
  }
}

void EventBus::Publish(const std::string& ns, const std::string& topic,
                       const google::protobuf::Message& event) {
  api::Envelope envelope;
  envelope.set_namespace_(ns);
  envelope.set_topic(topic);
  envelope.set_type_url(event.GetDescriptor()->full_name());
  envelope.set_event(event.SerializeAsString());
  Publish(std::move(envelope));
}

}  // namespace berth::runtimed
