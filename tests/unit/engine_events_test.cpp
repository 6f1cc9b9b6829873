// berthd's events: Docker's filter matching, the ring buffer's replays and the
// subscriptions; and the stats JSON from a Tasks.Stats sample.
#include <catch2/catch.hpp>
#include <thread>

#include "engine/daemon/container.h"
#include "engine/daemon/container_stats.h"
#include "engine/daemon/event_log.h"
#include "engine/routes/routes.h"

namespace berth::engine {
namespace {

Container Web() {
  Container c;
  c.id = std::string(64, 'a');
  c.name = "web";
  c.config = {{"Image", "127.0.0.1:5000/busybox:latest"},
              {"Labels", {{"tier", "front"}, {"team", "a"}}}};
  return c;
}

EventFilter Filter(const std::string& json) {
  auto f = EventFilter::Parse(json);
  REQUIRE(f.ok());
  return *f;
}

Event At(Event e, int64_t seconds) {
  e.time = absl::FromUnixSeconds(seconds);
  return e;
}

}  // namespace

TEST_CASE("a container event has dockerd's shape", "[events]") {
  Event e = ContainerEvent(Web(), "die", {{"exitCode", "3"}});
  e.time = absl::FromUnixNanos(1700000000123456789);
  nlohmann::ordered_json j = e.ToJson();
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"status", "id", "from", "Type", "Action", "Actor", "scope",
                                         "time", "timeNano"});
  CHECK(j["status"] == "die");
  CHECK(j["from"] == "127.0.0.1:5000/busybox:latest");
  CHECK(j["Actor"]["ID"] == std::string(64, 'a'));
  CHECK(j["Actor"]["Attributes"] ==
        nlohmann::ordered_json{{"exitCode", "3"},
                               {"image", "127.0.0.1:5000/busybox:latest"},
                               {"name", "web"},
                               {"team", "a"},
                               {"tier", "front"}});
  CHECK(j["time"] == 1700000000);
  CHECK(j["timeNano"] == 1700000000123456789);
  // Image events have no "from".
  nlohmann::ordered_json image = ImageEvent("pull", "busybox:latest", "busybox").ToJson();
  CHECK_FALSE(image.contains("from"));
  CHECK(image["id"] == "busybox:latest");
  CHECK(ExecAction("exec_start", "sh", {"-c", "ls"}) == "exec_start: sh -c ls");
  CHECK(ExecAction("exec_create", "true", {}) == "exec_create: true ");
}

TEST_CASE("event filters match as dockerd's", "[events]") {
  const Event start = ContainerEvent(Web(), "start");
  const Event exec = ContainerEvent(Web(), "exec_start: sh -c ls", {{"execID", "e1"}});
  const Event pull = ImageEvent("pull", "127.0.0.1:5000/busybox:latest", "127.0.0.1:5000/busybox");

  CHECK(Filter("").Matches(start));
  CHECK(Filter("{}").Matches(pull));
  // container: id, id prefix or name; never an image event.
  CHECK(Filter(R"({"container":{"web":true}})").Matches(start));
  CHECK(Filter(R"({"container":{"aaaa":true}})").Matches(start));
  CHECK_FALSE(Filter(R"({"container":{"db":true}})").Matches(start));
  CHECK(Filter(R"({"container":{"db":true,"web":true}})").Matches(start));
  CHECK_FALSE(Filter(R"({"container":{"web":true}})").Matches(pull));
  // event: exact, except the exec actions, which match their prefix.
  CHECK(Filter(R"({"event":{"start":true}})").Matches(start));
  CHECK_FALSE(Filter(R"({"event":{"sta":true}})").Matches(start));
  CHECK_FALSE(Filter(R"({"event":{"start":true}})").Matches(exec));
  CHECK(Filter(R"({"event":{"exec_start":true}})").Matches(exec));
  // type.
  CHECK(Filter(R"({"type":{"container":true}})").Matches(start));
  CHECK_FALSE(Filter(R"({"type":{"container":true}})").Matches(pull));
  CHECK(Filter(R"({"type":["image"]})").Matches(pull));
  // image: the container's image or the image's name, with or without its tag.
  CHECK(Filter(R"({"image":{"127.0.0.1:5000/busybox":true}})").Matches(start));
  CHECK(Filter(R"({"image":{"127.0.0.1:5000/busybox:latest":true}})").Matches(pull));
  CHECK(Filter(R"({"image":{"127.0.0.1:5000/busybox":true}})").Matches(pull));
  CHECK_FALSE(Filter(R"({"image":{"alpine":true}})").Matches(start));
  // label: key, or key=value; every one must hold.
  CHECK(Filter(R"({"label":{"tier":true}})").Matches(start));
  CHECK(Filter(R"({"label":{"tier=front":true}})").Matches(start));
  CHECK_FALSE(Filter(R"({"label":{"tier=back":true}})").Matches(start));
  CHECK(Filter(R"({"label":{"tier=front":true,"team=a":true}})").Matches(start));
  CHECK_FALSE(Filter(R"({"label":{"tier=front":true,"team=b":true}})").Matches(start));
  CHECK_FALSE(Filter(R"({"label":{"tier":true}})").Matches(pull));
  // scope; and keys combine.
  CHECK(Filter(R"({"scope":{"local":true}})").Matches(start));
  CHECK_FALSE(Filter(R"({"scope":{"swarm":true}})").Matches(start));
  CHECK(Filter(R"({"container":{"web":true},"event":{"start":true}})").Matches(start));
  CHECK_FALSE(Filter(R"({"container":{"web":true},"event":{"die":true}})").Matches(start));
}

TEST_CASE("bad event filters are refused with one line", "[events]") {
  for (const char* bad : {"{not json", "[1]", R"({"bogus":{"x":true}})", R"({"type":{"car":true}})",
                          R"({"event":"start"})", R"({"event":{"start":"yes"}})"}) {
    auto f = EventFilter::Parse(bad);
    INFO(bad);
    REQUIRE_FALSE(f.ok());
    CHECK(f.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(f.status().message()).find('\n') == std::string::npos);
  }
  CHECK(EventFilter::Parse(R"({"bogus":{"x":true}})").status().message() ==
        "invalid filter 'bogus'");
}

TEST_CASE("the ring buffer keeps the last events and replays since/until in order", "[events]") {
  EventLog log(4);
  for (int i = 0; i < 6; ++i)
    log.Publish(At(ContainerEvent(Web(), "a" + std::to_string(i)), 100 + i));
  std::vector<Event> all = log.Buffered();
  REQUIRE(all.size() == 4);
  CHECK(all.front().action == "a2");
  CHECK(all.back().action == "a5");

  std::vector<Event> past;
  auto s =
      log.Subscribe(EventFilter(), absl::FromUnixSeconds(103), absl::FromUnixSeconds(104), &past);
  REQUIRE(past.size() == 2);
  CHECK(past[0].action == "a3");
  CHECK(past[1].action == "a4");
  // No since and no until: no replay.
  past.clear();
  auto s2 = log.Subscribe(EventFilter(), absl::InfinitePast(), absl::InfiniteFuture(), &past);
  CHECK(past.empty());
  // A filter applies to the replay too.
  past.clear();
  auto s3 = log.Subscribe(Filter(R"({"event":{"a5":true}})"), absl::FromUnixSeconds(0),
                          absl::InfiniteFuture(), &past);
  REQUIRE(past.size() == 1);
  CHECK(past[0].action == "a5");
  // A time that goes back is moved up to the last one (replays stay ordered).
  log.Publish(At(ContainerEvent(Web(), "late"), 50));
  CHECK(log.Buffered().back().time == absl::FromUnixSeconds(105));
}

TEST_CASE("subscribers get the new events that match, until they go", "[events]") {
  EventLog log;
  CHECK(log.Subscribers() == 0);
  {
    auto starts = log.Subscribe(Filter(R"({"event":{"start":true}})"), absl::InfinitePast(),
                                absl::InfiniteFuture(), nullptr);
    auto everything =
        log.Subscribe(EventFilter(), absl::InfinitePast(), absl::InfiniteFuture(), nullptr);
    CHECK(log.Subscribers() == 2);
    std::thread publisher([&] {
      log.Publish(ContainerEvent(Web(), "create"));
      log.Publish(ContainerEvent(Web(), "start"));
    });
    Event e;
    REQUIRE(starts->Pop(e, absl::Seconds(5)) == EventLog::Subscription::Next::kEvent);
    CHECK(e.action == "start");
    REQUIRE(everything->Pop(e, absl::Seconds(5)) == EventLog::Subscription::Next::kEvent);
    CHECK(e.action == "create");
    REQUIRE(everything->Pop(e, absl::Seconds(5)) == EventLog::Subscription::Next::kEvent);
    CHECK(e.action == "start");
    publisher.join();
    CHECK(starts->Pop(e, absl::Milliseconds(10)) == EventLog::Subscription::Next::kTimeout);
  }
  CHECK(log.Subscribers() == 0);

  // One that does not read is cut off instead of holding events forever.
  auto idle = log.Subscribe(EventFilter(), absl::InfinitePast(), absl::InfiniteFuture(), nullptr);
  for (size_t i = 0; i <= EventLog::kMaxPending; ++i) log.Publish(ContainerEvent(Web(), "x"));
  Event e;
  CHECK(idle->Pop(e, absl::Milliseconds(10)) == EventLog::Subscription::Next::kOverflow);
}

TEST_CASE("events since/until take timestamps, durations and RFC 3339", "[events]") {
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  CHECK(*ParseEventTime("", now) == absl::InfinitePast());
  CHECK(*ParseEventTime("1700000000.5", now) ==
        absl::FromUnixSeconds(1700000000) + absl::Milliseconds(500));
  CHECK(*ParseEventTime("10m", now) == now - absl::Minutes(10));
  CHECK(*ParseEventTime("2023-11-14T22:13:20Z", now) == now);
  auto bad = ParseEventTime("yesterday", now);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("stats JSON has docker's fields and host memory for no limit", "[stats]") {
  api::StatsResponse cur;
  cur.mutable_read_at()->set_seconds(1700000001);
  cur.mutable_cpu()->set_total_usage_ns(2000);
  cur.mutable_cpu()->add_per_cpu_usage_ns(1500);
  cur.mutable_cpu()->add_per_cpu_usage_ns(500);
  cur.mutable_cpu()->set_system_usage_ns(900000);
  cur.mutable_cpu()->set_online_cpus(2);
  cur.mutable_memory()->set_usage(4096);
  cur.mutable_memory()->set_limit(9223372036854771712ULL);
  (*cur.mutable_memory()->mutable_stats())["total_inactive_file"] = 10;
  (*cur.mutable_memory()->mutable_stats())["cache"] = 20;
  cur.mutable_pids()->set_current(1);
  api::StatsResponse pre = cur;
  pre.mutable_read_at()->set_seconds(1700000000);
  pre.mutable_cpu()->set_total_usage_ns(1000);

  nlohmann::ordered_json j = StatsJson("abc", "web", &cur, &pre, 1 << 30);
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"read", "preread", "pids_stats", "blkio_stats",
                                         "num_procs", "storage_stats", "cpu_stats", "precpu_stats",
                                         "memory_stats", "name", "id"});
  CHECK(j["read"] == "2023-11-14T22:13:21Z");
  CHECK(j["preread"] == "2023-11-14T22:13:20Z");
  CHECK(j["name"] == "/web");
  CHECK(j["pids_stats"] == nlohmann::ordered_json{{"current", 1}});
  CHECK(j["cpu_stats"]["cpu_usage"]["total_usage"] == 2000);
  CHECK(j["cpu_stats"]["cpu_usage"]["percpu_usage"] == nlohmann::ordered_json{1500, 500});
  CHECK(j["cpu_stats"]["system_cpu_usage"] == 900000);
  CHECK(j["cpu_stats"]["online_cpus"] == 2);
  CHECK(j["precpu_stats"]["cpu_usage"]["total_usage"] == 1000);
  CHECK(j["memory_stats"]["usage"] == 4096);
  CHECK(j["memory_stats"]["limit"] == 1 << 30);
  CHECK_FALSE(j["memory_stats"].contains("failcnt"));
  CHECK(j["memory_stats"]["stats"]["cache"] == 20);
  // A limit below the host's memory stays.
  cur.mutable_memory()->set_limit(64 << 20);
  CHECK(StatsJson("abc", "web", &cur, nullptr, 1 << 30)["memory_stats"]["limit"] == 64 << 20);
  // One-shot: empty precpu_stats.
  nlohmann::ordered_json one = StatsJson("abc", "web", &cur, nullptr, 1 << 30);
  CHECK(one["preread"] == "0001-01-01T00:00:00Z");
  CHECK(
      one["precpu_stats"] ==
      nlohmann::ordered_json{
          {"cpu_usage", {{"total_usage", 0}, {"usage_in_kernelmode", 0}, {"usage_in_usermode", 0}}},
          {"throttling_data", {{"periods", 0}, {"throttled_periods", 0}, {"throttled_time", 0}}}});
  // A stopped container: dockerd's zeroed object.
  nlohmann::ordered_json zero = StatsJson("abc", "web", nullptr, nullptr, 1 << 30);
  CHECK(zero["read"] == "0001-01-01T00:00:00Z");
  CHECK(zero["memory_stats"] == nlohmann::ordered_json::object());
  CHECK(zero["pids_stats"] == nlohmann::ordered_json::object());
  CHECK(zero["blkio_stats"]["io_service_bytes_recursive"].is_null());
}

}  // namespace berth::engine
