// The pieces of logs/attach/exec/stats/events that need no daemon: detach
// keys (moby/term ToBytes and EscapeProxy), --since/--until values
// (api/types/time.GetTimestamp), stats numbers and rows, event lines.
#include <catch2/catch.hpp>
#include <string>

#include "absl/time/time.h"
#include "cli/attach.h"
#include "cli/stats_events.h"
#include "cli/time_opts.h"

using namespace berth::cli;

TEST_CASE("detach keys: moby/term ToBytes") {
  CHECK(*ParseDetachKeys("ctrl-p,ctrl-q") == std::string("\x10\x11"));
  CHECK(*ParseDetachKeys("ctrl-a") == std::string("\x01"));
  CHECK(*ParseDetachKeys("ctrl-@") == std::string(1, '\0'));
  CHECK(*ParseDetachKeys("ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_") ==
        std::string("\x1b\x1c\x1d\x1e\x1f"));
  CHECK(*ParseDetachKeys("a,b,ctrl-z") == std::string("ab\x1a"));
  CHECK(ParseDetachKeys("ctrl-").status().message() == "Unknown character: 'ctrl-'");
  CHECK(ParseDetachKeys("abc").status().message() == "Unknown character: 'abc'");
  CHECK(ParseDetachKeys("ctrl-1").status().message() == "Unknown character: 'ctrl-1'");
  CHECK(!ParseDetachKeys("").ok());
}

TEST_CASE("detach keys: the sequence is found across split reads and never forwarded") {
  const std::string keys = "\x10\x11";
  SECTION("whole in one read, after some input") {
    EscapeDetector d(keys);
    auto r = d.Feed("ls\r\x10\x11more");
    CHECK(r.forward == "ls\r");
    CHECK(r.detached);
  }
  SECTION("split across reads") {
    EscapeDetector d(keys);
    auto r1 = d.Feed("echo\x10");
    CHECK(r1.forward == "echo");
    CHECK_FALSE(r1.detached);
    auto r2 = d.Feed("\x11");
    CHECK(r2.forward.empty());
    CHECK(r2.detached);
  }
  SECTION("a prefix then something else: the held byte goes through") {
    EscapeDetector d(keys);
    auto r1 = d.Feed("\x10");
    CHECK(r1.forward.empty());
    auto r2 = d.Feed("x");
    CHECK(r2.forward == std::string("\x10x"));
    CHECK_FALSE(r2.detached);
  }
  SECTION("a prefix repeated: ctrl-p ctrl-p ctrl-q detaches") {
    EscapeDetector d(keys);
    auto r = d.Feed("\x10\x10\x11");
    CHECK(r.forward == std::string("\x10"));
    CHECK(r.detached);
  }
  SECTION("one key at a time, three keys") {
    EscapeDetector d("abc");
    std::string fwd;
    bool detached = false;
    for (char c : std::string("xabxabc")) {
      auto r = d.Feed(std::string(1, c));
      fwd += r.forward;
      detached = detached || r.detached;
    }
    CHECK(fwd == "xabx");
    CHECK(detached);
  }
  SECTION("no keys: everything forwarded") {
    EscapeDetector d("");
    auto r = d.Feed("\x10\x11");
    CHECK(r.forward == std::string("\x10\x11"));
    CHECK_FALSE(r.detached);
  }
}

TEST_CASE("time options: --since and --until as docker's GetTimestamp") {
  absl::Time ref = absl::FromUnixSeconds(1700000000);
  absl::TimeZone utc = absl::UTCTimeZone();
  absl::TimeZone plus2 = absl::FixedTimeZone(2 * 3600);
  // Durations before the reference, in whole seconds.
  CHECK(*GetTimestamp("10m", ref, utc) == "1699999400");
  CHECK(*GetTimestamp("1h30m", ref, utc) == "1699994600");
  CHECK(*GetTimestamp("1.5h", ref, utc) == "1699994600");
  CHECK(*GetTimestamp("-10s", ref, utc) == "1700000010");
  // Unix timestamps pass through.
  CHECK(*GetTimestamp("0", ref, utc) == "0");
  CHECK(*GetTimestamp("1700000000", ref, utc) == "1700000000");
  CHECK(*GetTimestamp("1700000000.000000001", ref, utc) == "1700000000.000000001");
  // RFC 3339 with a zone.
  CHECK(*GetTimestamp("2023-11-14T22:13:20Z", ref, plus2) == "1700000000.000000000");
  CHECK(*GetTimestamp("2023-11-14T22:13:20.5Z", ref, plus2) == "1700000000.500000000");
  CHECK(*GetTimestamp("2023-11-15T00:13:20+02:00", ref, utc) == "1700000000.000000000");
  CHECK(*GetTimestamp("2023-11-14T22:13Z", ref, plus2) == "1699999980.000000000");
  CHECK(*GetTimestamp("2023-11-14T22Z", ref, plus2) == "1699999200.000000000");
  // Without a zone: the local zone.
  CHECK(*GetTimestamp("2023-11-15T00:13:20", ref, plus2) == "1700000000.000000000");
  CHECK(*GetTimestamp("2023-11-15T00:13", ref, plus2) == "1699999980.000000000");
  CHECK(*GetTimestamp("2023-11-15", ref, plus2) == "1699999200.000000000");
  CHECK(*GetTimestamp("2023-11-14", ref, utc) == "1699920000.000000000");
  CHECK(*GetTimestamp("2023-11-15T00:13:20.25", ref, plus2) == "1700000000.250000000");
  // Errors.
  CHECK(GetTimestamp("yesterday", ref, utc).status().message() ==
        "failed to parse value as time or duration: \"yesterday\"");
  CHECK(!GetTimestamp("2023-13-45", ref, utc).ok());
  CHECK(!GetTimestamp("10x", ref, utc).ok());
  CHECK(!GetTimestamp("inf", ref, utc).ok());
}

TEST_CASE("stats: docker's CPU, memory, network and block I/O numbers") {
  auto v = OrderedJson::parse(R"({
    "id": "0123456789abcdef0123", "name": "/web",
    "cpu_stats": {"cpu_usage": {"total_usage": 400000000}, "system_cpu_usage": 20000000000,
                  "online_cpus": 4},
    "precpu_stats": {"cpu_usage": {"total_usage": 200000000}, "system_cpu_usage": 10000000000},
    "memory_stats": {"usage": 10485760, "limit": 104857600, "stats": {"inactive_file": 2097152}},
    "networks": {"eth0": {"rx_bytes": 1500, "tx_bytes": 500}, "eth1": {"rx_bytes": 500, "tx_bytes": 0}},
    "blkio_stats": {"io_service_bytes_recursive": [
        {"major": 8, "minor": 0, "op": "read", "value": 4096},
        {"major": 8, "minor": 0, "op": "Write", "value": 8192},
        {"major": 8, "minor": 0, "op": "sync", "value": 1},
        {"major": 8, "minor": 1, "op": "Read", "value": 4096}]},
    "pids_stats": {"current": 3}
  })");
  StatsEntry s = ComputeStats(v);
  CHECK(s.name == "web");
  CHECK(s.cpu_percent == Approx(8.0));  // 0.2e9 / 10e9 * 4 * 100
  CHECK(s.memory == 8388608);
  CHECK(s.memory_percent == Approx(8.0));
  CHECK(s.net_rx == 2000);
  CHECK(s.net_tx == 500);
  CHECK(s.block_read == 8192);
  CHECK(s.block_write == 8192);
  CHECK(s.pids == 3);
  FormatRow row = StatsRow(s, true);
  CHECK(row.fields["ID"] == "0123456789ab");
  CHECK(row.fields["Name"] == "web");
  CHECK(row.fields["CPUPerc"] == "8.00%");
  CHECK(row.fields["MemUsage"] == "8MiB / 100MiB");
  CHECK(row.fields["MemPerc"] == "8.00%");
  CHECK(row.fields["NetIO"] == "2kB / 500B");
  CHECK(row.fields["BlockIO"] == "8.19kB / 8.19kB");
  CHECK(row.fields["PIDs"] == "3");

  SECTION("cgroup v1: total_inactive_file, percpu count when online_cpus is absent") {
    auto v1 = OrderedJson::parse(R"({
      "cpu_stats": {"cpu_usage": {"total_usage": 300, "percpu_usage": [1, 2]}, "system_cpu_usage": 2000},
      "precpu_stats": {"cpu_usage": {"total_usage": 100}, "system_cpu_usage": 1000},
      "memory_stats": {"usage": 1000, "limit": 0, "stats": {"total_inactive_file": 400, "inactive_file": 100}}
    })");
    StatsEntry e = ComputeStats(v1);
    CHECK(e.cpu_percent == Approx(40.0));  // 200/1000 * 2 * 100
    CHECK(e.memory == 600);
    CHECK(e.memory_percent == 0);
  }
  SECTION("first sample: no previous CPU, 0.00%") {
    auto first = OrderedJson::parse(
        R"({"cpu_stats": {"cpu_usage": {"total_usage": 5}, "system_cpu_usage": 9},
                                        "precpu_stats": {}})");
    CHECK(ComputeStats(first).cpu_percent == 0);
  }
  SECTION("the table") {
    ListFormat lf{StatsFormat(""), StatsHeader(), "*formatter.statsContext"};
    auto out = RenderList(lf, {row});
    REQUIRE(out.ok());
    CHECK(*out ==
          "CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O      BLOCK "
          "I/O   "
          "      PIDS\n"
          "0123456789ab   web       8.00%     8MiB / 100MiB       8.00%     2kB / 500B   8.19kB / "
          "8.19kB   3\n");
  }
}

TEST_CASE("events: docker's line") {
  auto e = OrderedJson::parse(R"({
    "status": "start", "id": "abc", "from": "busybox", "Type": "container", "Action": "start",
    "Actor": {"ID": "abc", "Attributes": {"name": "web", "image": "busybox"}},
    "scope": "local", "time": 1700000000, "timeNano": 1700000000123456789})");
  CHECK(FormatEvent(e, absl::UTCTimeZone()) ==
        "2023-11-14T22:13:20.123456789Z container start abc (image=busybox, name=web)\n");
  CHECK(FormatEvent(e, absl::FixedTimeZone(3600)) ==
        "2023-11-14T23:13:20.123456789+01:00 container start abc (image=busybox, name=web)\n");
  auto bare = OrderedJson::parse(
      R"({"Type": "network", "Action": "connect", "Actor": {"ID": "n1"}, "time": 1700000000})");
  CHECK(FormatEvent(bare, absl::UTCTimeZone()) ==
        "2023-11-14T22:13:20.000000000Z network connect n1\n");
}
