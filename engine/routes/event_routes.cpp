// GET /events: the buffered events a since/until asks for, then the new ones
// as they happen (moby's api/server/router/system getEvents), one JSON object
// a line, until `until`, or until the client goes.
#include "absl/strings/str_cat.h"
#include "engine/daemon/event_log.h"
#include "engine/daemon/json_log_reader.h"
#include "engine/routes/routes.h"

namespace berth::engine {
namespace {

using http::Request;
using http::ResponseWriter;

// How often a waiting stream checks whether its client is still there.
constexpr absl::Duration kPollInterval = absl::Milliseconds(250);

}  // namespace

absl::StatusOr<absl::Time> ParseEventTime(const std::string& text, absl::Time now) {
  if (text.empty()) return absl::InfinitePast();
  // What dockerd's API takes (a unix timestamp with an optional fraction),
  // and what its CLI turns into one: a Go duration before now, RFC 3339.
  if (auto t = ParseUnixTimestamp(text); t.ok()) return *t;
  absl::Duration d;
  if (absl::ParseDuration(text, &d) && text != "inf" && text != "-inf" && text != "+inf") {
    return now - d;
  }
  absl::Time t;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &error)) return t;
  if (absl::ParseTime("%Y-%m-%d", text, &t, &error)) return t;
  return absl::InvalidArgumentError(
      absl::StrCat("invalid time \"", text,
                   "\": want a unix timestamp (seconds[.nanoseconds]), a duration (10m) or an "
                   "RFC 3339 date"));
}

void AddEventRoutes(http::Router& router, Daemon& daemon) {
  router.Add("GET", "/events", [&](Request& r, ResponseWriter& w) {
    const absl::Time now = absl::Now();
    auto since = ParseEventTime(r.Query("since"), now);
    if (!since.ok()) return SendStatus(w, since.status());
    auto until = ParseEventTime(r.Query("until"), now);
    if (!until.ok()) return SendStatus(w, until.status());
    if (*until == absl::InfinitePast()) *until = absl::InfiniteFuture();
    if (*until != absl::InfiniteFuture() && *until < *since) {
      return w.SendError(
          400, absl::StrCat("`since` time (", r.Query("since"), ") cannot be after `until` time (",
                            r.Query("until"), ")"));
    }
    auto filter = EventFilter::Parse(r.Query("filters"));
    if (!filter.ok()) return SendStatus(w, filter.status());

    std::vector<Event> past;
    auto subscription = daemon.events().Subscribe(*filter, *since, *until, &past);
    w.BeginStream(200, "application/json");
    for (const Event& e : past) {
      if (!w.Write(e.ToJson().dump() + "\n")) return;
    }
    // An until in the past: the replay is all there is.
    if (*until != absl::InfiniteFuture() && *until < now) return;
    for (;;) {
      absl::Duration wait = kPollInterval;
      if (*until != absl::InfiniteFuture()) {
        absl::Duration left = *until - absl::Now();
        if (left <= absl::ZeroDuration()) return;
        wait = std::min(wait, left);
      }
      Event e;
      switch (subscription->Pop(e, wait)) {
        case EventLog::Subscription::Next::kEvent:
          if (!w.Write(e.ToJson().dump() + "\n")) return;
          break;
        case EventLog::Subscription::Next::kOverflow:
          return;  // too far behind: the client sees the stream end
        case EventLog::Subscription::Next::kTimeout:
          if (w.ClientGone()) return;
          break;
      }
    }
  });
}

}  // namespace berth::engine
