// berthd's events (GET /events, `docker events`): what happened to containers
// and images, in Docker's shape (moby's api/types/events.Message), kept in a
// ring buffer of the last 256 (as dockerd's daemon/events) for since/until
// replays, and handed to the subscribers whose filters match as they happen.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace berth::engine {

struct Container;

struct Event {
  std::string type;    // "container", "image"
  std::string action;  // "start", "die", "exec_start: sh -c ls", "pull", ...
  std::string id;      // Actor.ID: the container's id, the image's id or reference
  std::map<std::string, std::string> attributes;
  std::string scope = "local";
  absl::Time time = absl::InfinitePast();  // set by Publish when not given

  // Docker's JSON: status, id, from (container and image events, as dockerd
  // fills them for old clients), Type, Action, Actor, scope, time, timeNano.
  nlohmann::ordered_json ToJson() const;
};

// A container event as dockerd's LogContainerEventWithAttributes makes it:
// the container's labels, then name and image, then extra.
Event ContainerEvent(const Container& c, std::string action,
                     const std::map<std::string, std::string>& extra = {});
// dockerd's exec actions: "exec_start: " + entrypoint + " " + args joined
// by spaces (a trailing space without args, as dockerd's).
std::string ExecAction(const std::string& action, const std::string& entrypoint,
                       const std::vector<std::string>& args);
// An image event as dockerd's LogImageEvent: Actor.ID id, attribute name.
Event ImageEvent(std::string action, std::string id, std::string name);

// Docker's event filters (daemon/events/filter.go): container (id or name,
// prefixes match), event (exact; exec_create, exec_start and health_status
// match the actions they begin), type, image (id or name, with or without the
// tag), label (key or key=value, all must hold), scope. Values of one key are
// alternatives; keys must all match.
class EventFilter {
 public:
  EventFilter() = default;
  // The filters query parameter: {"key": {"value": true}} or the older
  // {"key": ["value"]}; "" matches everything. InvalidArgument with one line
  // for bad JSON, an unknown key or a bad value.
  static absl::StatusOr<EventFilter> Parse(const std::string& json);
  bool Matches(const Event& e) const;

 private:
  bool Exact(const std::string& key, const std::string& value) const;
  bool Fuzzy(const std::string& key, const std::string& value) const;
  std::map<std::string, std::set<std::string>> fields_;
};

class EventLog {
 public:
  static constexpr size_t kDefaultCapacity = 256;  // dockerd's eventsLimit
  // A subscriber that does not read falls this far behind before it is cut
  // off (its Next returns kOverflow), so a stuck client holds no memory.
  static constexpr size_t kMaxPending = 1024;

  explicit EventLog(size_t capacity = kDefaultCapacity) : capacity_(capacity) {}
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Stamps the event with the time (when unset), keeps it in the ring buffer
  // and queues it for every subscriber whose filter matches.
  void Publish(Event e);

  class Subscription {
   public:
    enum class Next { kEvent, kTimeout, kOverflow };
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    // The next event, waiting up to timeout.
    Next Pop(Event& out, absl::Duration timeout);

   private:
    friend class EventLog;
    Subscription(EventLog& log, EventFilter filter) : log_(log), filter_(std::move(filter)) {}
    EventLog& log_;
    const EventFilter filter_;
    // Guarded by log_.mu_.
    std::deque<Event> pending_;
    bool overflow_ = false;
  };

  // Subscribes, and fills *past with the buffered events in [since, until]
  // that match (oldest first) when since or until is set (not infinite), as
  // dockerd's loadBufferedEvents; atomically, so no event is missed or seen
  // twice. The subscription ends when the returned object is destroyed.
  std::unique_ptr<Subscription> Subscribe(EventFilter filter, absl::Time since, absl::Time until,
                                          std::vector<Event>* past);

  // Everything in the ring buffer, oldest first.
  std::vector<Event> Buffered() const;
  size_t Subscribers() const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> ring_;
  std::set<Subscription*> subscribers_;
};

}  // namespace berth::engine
