#include "engine/daemon/event_log.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "engine/daemon/container.h"

namespace berth::engine {
namespace {

// The event filter keys dockerd accepts (api/server/router/system
// acceptedEventFilterTags is the daemon's list; swarm's are kept so a
// client's filter for them reads as matching nothing rather than an error).
const std::set<std::string>& KnownKeys() {
  static const std::set<std::string> kKeys = {"config", "container", "daemon", "event",  "image",
                                              "label",  "network",   "node",   "plugin", "scope",
                                              "secret", "service",   "type",   "volume"};
  return kKeys;
}

// dockerd's stripTag: "busybox:latest" -> "busybox",
// "docker.io/library/busybox" -> "busybox"; ids stay as they are.
std::string StripTag(const std::string& image) {
  if (absl::StartsWith(image, "sha256:")) return image;
  std::string name = image.substr(0, image.find('@'));
  size_t slash = name.rfind('/');
  size_t colon = name.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    name.resize(colon);
  }
  absl::string_view familiar = name;
  if (absl::ConsumePrefix(&familiar, "docker.io/")) absl::ConsumePrefix(&familiar, "library/");
  return std::string(familiar);
}

}  // namespace

nlohmann::ordered_json Event::ToJson() const {
  nlohmann::ordered_json j;
  if (type == "container" || type == "image") {
    j["status"] = action;
    j["id"] = id;
    if (type == "container") {
      auto image = attributes.find("image");
      if (image != attributes.end() && !image->second.empty()) j["from"] = image->second;
    }
  }
  j["Type"] = type;
  j["Action"] = action;
  nlohmann::ordered_json attrs = nlohmann::ordered_json::object();
  for (const auto& [k, v] : attributes) attrs[k] = v;  // sorted, as Go's map encoding
  j["Actor"] = {{"ID", id}, {"Attributes", std::move(attrs)}};
  j["scope"] = scope;
  j["time"] = absl::ToUnixSeconds(time);
  j["timeNano"] = absl::ToUnixNanos(time);
  return j;
}

Event ContainerEvent(const Container& c, std::string action,
                     const std::map<std::string, std::string>& extra) {
  Event e;
  e.type = "container";
  e.action = std::move(action);
  e.id = c.id;
  if (auto labels = c.config.find("Labels"); labels != c.config.end() && labels->is_object()) {
    for (const auto& [k, v] : labels->items()) {
      if (v.is_string()) e.attributes[k] = v.get<std::string>();
    }
  }
  e.attributes["name"] = c.name;
  e.attributes["image"] = c.config.value("Image", "");
  for (const auto& [k, v] : extra) e.attributes[k] = v;
  return e;
}

std::string ExecAction(const std::string& action, const std::string& entrypoint,
                       const std::vector<std::string>& args) {
  return absl::StrCat(action, ": ", entrypoint, " ", absl::StrJoin(args, " "));
}

Event ImageEvent(std::string action, std::string id, std::string name) {
  Event e;
  e.type = "image";
  e.action = std::move(action);
  e.id = std::move(id);
  if (!name.empty()) e.attributes["name"] = std::move(name);
  return e;
}

absl::StatusOr<EventFilter> EventFilter::Parse(const std::string& text) {
  EventFilter f;
  if (text.empty()) return f;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid filter: filters is not valid JSON: ", text));
  }
  if (j.is_null()) return f;
  if (!j.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid filter: want a JSON object of the form "
                     "{\"key\":{\"value\":true}}, got ",
                     text));
  }
  for (const auto& [key, values] : j.items()) {
    if (!KnownKeys().count(key)) {
      return absl::InvalidArgumentError(absl::StrCat("invalid filter '", key, "'"));
    }
    std::set<std::string>& set = f.fields_[key];
    if (values.is_object()) {
      for (const auto& [value, on] : values.items()) {
        if (!on.is_boolean()) {
          return absl::InvalidArgumentError(
              absl::StrCat("invalid filter: the value of '", key, "=", value, "' is not a bool"));
        }
        if (on.get<bool>()) set.insert(value);
      }
    } else if (values.is_array()) {
      for (const auto& value : values) {
        if (!value.is_string()) {
          return absl::InvalidArgumentError(
              absl::StrCat("invalid filter: the values of '", key, "' are not strings"));
        }
        set.insert(value.get<std::string>());
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("invalid filter: the values of '", key,
                                                     "' are not an object {\"value\":true}"));
    }
  }
  for (const std::string& t : f.fields_["type"]) {
    static const std::set<std::string> kTypes = {"builder", "config",  "container", "daemon",
                                                 "image",   "network", "node",      "plugin",
                                                 "secret",  "service", "volume"};
    if (!kTypes.count(t)) return absl::InvalidArgumentError(absl::StrCat("Unknown type: ", t));
  }
  for (const std::string& s : f.fields_["scope"]) {
    if (s != "local" && s != "swarm") {
      return absl::InvalidArgumentError(absl::StrCat("Invalid scope filter: ", s));
    }
  }
  std::erase_if(f.fields_, [](const auto& kv) { return kv.second.empty(); });
  return f;
}

// filters.Args.ExactMatch: no values for the key, or value is one of them.
bool EventFilter::Exact(const std::string& key, const std::string& value) const {
  auto it = fields_.find(key);
  return it == fields_.end() || it->second.count(value) != 0;
}

// filters.Args.FuzzyMatch: also a value that is a prefix of it.
bool EventFilter::Fuzzy(const std::string& key, const std::string& value) const {
  auto it = fields_.find(key);
  if (it == fields_.end() || it->second.count(value) != 0) return true;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const std::string& prefix) { return absl::StartsWith(value, prefix); });
}

bool EventFilter::Matches(const Event& e) const {
  auto attr = [&](const char* name) {
    auto it = e.attributes.find(name);
    return it == e.attributes.end() ? std::string() : it->second;
  };
  // event: exact, but exec_create/exec_start/health_status name the actions
  // that begin with them ("exec_start: sh").
  bool event_ok;
  if (auto it = fields_.find("event");
      it != fields_.end() && (it->second.count("exec_create") || it->second.count("exec_start") ||
                              it->second.count("health_status"))) {
    event_ok = Fuzzy("event", e.action);
  } else {
    event_ok = Exact("event", e.action);
  }
  if (!event_ok || !Exact("type", e.type)) return false;
  if (!Exact("scope", e.scope)) return false;
  // Each kind of object matches its own events only (by id, prefix, or name).
  for (const char* kind : {"container", "daemon", "plugin", "volume", "network", "node", "service",
                           "secret", "config"}) {
    if (!fields_.count(kind)) continue;
    bool ok = e.type == kind && (Fuzzy(kind, e.id) || Fuzzy(kind, attr("name")));
    if (!ok) return false;
  }
  if (fields_.count("image")) {
    const std::string name = attr(e.type == "image" ? "name" : "image");
    if (!(Exact("image", e.id) || Exact("image", name) || Exact("image", StripTag(e.id)) ||
          Exact("image", StripTag(name)))) {
      return false;
    }
  }
  if (auto it = fields_.find("label"); it != fields_.end()) {
    for (const std::string& want : it->second) {
      size_t eq = want.find('=');
      auto have = e.attributes.find(want.substr(0, eq));
      if (have == e.attributes.end()) return false;
      if (eq != std::string::npos && have->second != want.substr(eq + 1)) return false;
    }
  }
  return true;
}

void EventLog::Publish(Event e) {
  if (e.time == absl::InfinitePast()) e.time = absl::Now();
  std::lock_guard lock(mu_);
  // Times only go forward in the buffer (replays rely on its order).
  if (!ring_.empty() && e.time < ring_.back().time) e.time = ring_.back().time;
  for (Subscription* s : subscribers_) {
    if (s->overflow_ || !s->filter_.Matches(e)) continue;
    if (s->pending_.size() >= kMaxPending) {
      s->overflow_ = true;
      s->pending_.clear();
      continue;
    }
    s->pending_.push_back(e);
  }
  ring_.push_back(std::move(e));
  while (ring_.size() > capacity_) ring_.pop_front();
  cv_.notify_all();
}

std::unique_ptr<EventLog::Subscription> EventLog::Subscribe(EventFilter filter, absl::Time since,
                                                            absl::Time until,
                                                            std::vector<Event>* past) {
  std::unique_ptr<Subscription> s(new Subscription(*this, std::move(filter)));
  std::lock_guard lock(mu_);
  if (past != nullptr && (since != absl::InfinitePast() || until != absl::InfiniteFuture())) {
    for (const Event& e : ring_) {
      if (e.time < since || e.time > until) continue;
      if (s->filter_.Matches(e)) past->push_back(e);
    }
  }
  subscribers_.insert(s.get());
  return s;
}

EventLog::Subscription::~Subscription() {
  std::lock_guard lock(log_.mu_);
  log_.subscribers_.erase(this);
}

EventLog::Subscription::Next EventLog::Subscription::Pop(Event& out, absl::Duration timeout) {
  std::unique_lock lock(log_.mu_);
  auto ready = [&] { return overflow_ || !pending_.empty(); };
  if (!log_.cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout), ready)) {
    return Next::kTimeout;
  }
  if (overflow_) return Next::kOverflow;
  out = std::move(pending_.front());
  pending_.pop_front();
  return Next::kEvent;
}

std::vector<Event> EventLog::Buffered() const {
  std::lock_guard lock(mu_);
  return {ring_.begin(), ring_.end()};
}

size_t EventLog::Subscribers() const {
  std::lock_guard lock(mu_);
  return subscribers_.size();
}

}  // namespace berth::engine
