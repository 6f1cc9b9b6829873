// runtimed's events, fanned out to every subscriber in publication order.
// Each subscriber has its own bounded queue: a subscriber that falls more than
// kMaxQueued events behind is cut off (its stream ends) rather than slowing
// the publishers or growing without bound.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "berth/runtime/v1/events.pb.h"

namespace berth::runtimed {

class EventBus {
 public:
  static constexpr size_t kMaxQueued = 4096;

  class Subscription {
   public:
    // The next event; nullopt after `timeout` without one (check Closed()).
    std::optional<berth::runtime::v1::Envelope> Next(absl::Duration timeout);
    bool Closed() const;

   private:
    friend class EventBus;
    std::vector<std::string> topics_, namespaces_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<berth::runtime::v1::Envelope> queue_;
    bool closed_ = false;
  };

  std::shared_ptr<Subscription> Subscribe(std::vector<std::string> topics,
                                          std::vector<std::string> namespaces);
  void Unsubscribe(const std::shared_ptr<Subscription>& s);

  // Stamps the time if unset, then delivers to every matching subscriber.
  void Publish(berth::runtime::v1::Envelope envelope);
  // A runtimed event: type_url is the message's full name.
  void Publish(const std::string& ns, const std::string& topic,
               const google::protobuf::Message& event);

 private:
  std::mutex mu_;
  std::set<std::shared_ptr<Subscription>> subscriptions_;
};

}  // namespace berth::runtimed
