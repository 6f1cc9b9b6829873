// GET /containers/{id}/stats (moby's daemon/stats.go ContainerStats):
// stream=true (the default) sends an object a second, zeroed while the
// container does not run, until the client goes or the container is removed;
// stream=false one object whose precpu_stats come from a sample a second
// before, or with one-shot=true at once and without precpu_stats; for a
// container that does not run, dockerd's zeroed object.
#include "absl/strings/str_cat.h"
#include "engine/daemon/container_stats.h"
#include "engine/routes/routes.h"

namespace berth::engine {
namespace {

using http::Request;
using http::ResponseWriter;

constexpr absl::Duration kInterval = absl::Seconds(1);

// Waits d; false as soon as the client is gone.
bool Pause(ResponseWriter& w, absl::Duration d) {
  const absl::Time end = absl::Now() + d;
  while (absl::Now() < end) {
    if (w.ClientGone()) return false;
    absl::SleepFor(std::min(absl::Milliseconds(100), end - absl::Now()));
  }
  return !w.ClientGone();
}

void Stats(Daemon& daemon, Request& r, ResponseWriter& w) {
  const bool stream = r.QueryBool("stream", true);
  const bool one_shot = !stream && r.QueryBool("one-shot", false);
  auto target = daemon.ForStats(r.params["id"]);
  if (!target.ok()) return SendStatus(w, target.status());
  const uint64_t host_memory = HostMemoryBytes();
  auto zeroed = [&] { return StatsJson(target->id, target->name, nullptr, nullptr, 0); };

  if (!stream) {
    if (!target->running) return w.SendJson(200, zeroed());
    auto first = daemon.TaskStats(target->id);
    if (!first.ok()) return w.SendJson(200, zeroed());
    if (one_shot) {
      return w.SendJson(200, StatsJson(target->id, target->name, &*first, nullptr, host_memory));
    }
    if (!Pause(w, kInterval)) return;
    auto second = daemon.TaskStats(target->id);
    if (!second.ok()) return w.SendJson(200, zeroed());
    return w.SendJson(200, StatsJson(target->id, target->name, &*second, &*first, host_memory));
  }

  // As dockerd's stats collector: a container that does not run (yet, or any
  // more) gets a zeroed object a second; the stream ends when the client
  // goes or the container is removed.
  w.BeginStream(200, "application/json");
  std::optional<api::StatsResponse> previous;
  for (;;) {
    auto sample = daemon.TaskStats(target->id);
    nlohmann::ordered_json j = sample.ok() ? StatsJson(target->id, target->name, &*sample,
                                                       previous ? &*previous : nullptr, host_memory)
                                           : zeroed();
    if (!w.Write(j.dump() + "\n")) return;
    if (sample.ok()) {
      previous = std::move(*sample);
    } else {
      previous.reset();
    }
    if (!Pause(w, kInterval) || !daemon.ForStats(target->id).ok()) return;
  }
}

}  // namespace

void AddStatsRoutes(http::Router& router, Daemon& daemon) {
  router.Add("GET", "/containers/{id}/stats",
             [&](Request& r, ResponseWriter& w) { Stats(daemon, r, w); });
}

}  // namespace berth::engine
