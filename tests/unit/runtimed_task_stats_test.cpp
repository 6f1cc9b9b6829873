#include <catch2/catch.hpp>
#include <string>

#include "containerd/cgroups/v1/metrics.pb.h"
#include "highlevel-runtime/tasks/task_stats.h"

namespace api = berth::runtime::v1;
namespace v1 = io::containerd::cgroups::v1;
using berth::runtimed::FillStatsFromMetrics;
using berth::runtimed::ParseProcStat;

TEST_CASE("task stats: /proc/stat gives the host's cpu time in ns and its cpus", "[stats]") {
  const std::string text =
      "cpu  100 20 30 1000 5 1 2 7 0 0\n"
      "cpu0 50 10 15 500 2 1 1 3 0 0\n"
      "cpu1 50 10 15 500 3 0 1 4 0 0\n"
      "intr 12345 0 0\n"
      "ctxt 999\n";
  auto host = ParseProcStat(text, 100);
  REQUIRE(host.ok());
  // user..softirq (7 fields, steal left out as dockerd does) = 1158 ticks of 10 ms.
  CHECK(host->system_usage_ns == 11'580'000'000ULL);
  CHECK(host->online_cpus == 2);
  // ticks × 1e9 would overflow 64 bits here; the result does not.
  auto big = ParseProcStat("cpu  100000000007 0 0 0 0 0 0\ncpu0 1 0 0 0 0 0 0\n", 100);
  REQUIRE(big.ok());
  CHECK(big->system_usage_ns == 1'000'000'000'070'000'000ULL);
  CHECK_FALSE(ParseProcStat("cpu 1 2\n", 100).ok());
  CHECK_FALSE(ParseProcStat("intr 1\n", 100).ok());
  CHECK_FALSE(ParseProcStat("cpu  a 0 0 0 0 0 0\n", 100).ok());
  auto real = berth::runtimed::ReadHostCpu();
  REQUIRE(real.ok());
  CHECK(real->online_cpus >= 1);
  CHECK(real->system_usage_ns > 0);
}

TEST_CASE("task stats: cgroup v1 Metrics become docker's figures", "[stats]") {
  v1::Metrics m;
  m.mutable_pids()->set_current(3);
  m.mutable_pids()->set_limit(100);
  m.mutable_cpu()->mutable_usage()->set_total(5000);
  m.mutable_cpu()->mutable_usage()->set_kernel(1000);
  m.mutable_cpu()->mutable_usage()->set_user(4000);
  m.mutable_cpu()->mutable_usage()->add_per_cpu(2000);
  m.mutable_cpu()->mutable_usage()->add_per_cpu(3000);
  m.mutable_cpu()->mutable_throttling()->set_throttled_time(7);
  m.mutable_memory()->mutable_usage()->set_usage(4096);
  m.mutable_memory()->mutable_usage()->set_limit(1 << 20);
  m.mutable_memory()->mutable_usage()->set_max(8192);
  m.mutable_memory()->set_cache(1024);
  m.mutable_memory()->set_rss(2048);
  m.mutable_memory()->set_total_inactive_file(512);
  auto* entry = m.mutable_blkio()->add_io_service_bytes_recursive();
  entry->set_major(8);
  entry->set_op("Read");
  entry->set_value(42);
  berth::wire::Any any;
  any.set_type_url("io.containerd.cgroups.v1.Metrics");
  any.set_value(m.SerializeAsString());

  api::StatsResponse out;
  REQUIRE(FillStatsFromMetrics(any, &out).ok());
  CHECK(out.metrics_type_url() == "io.containerd.cgroups.v1.Metrics");
  CHECK(out.metrics() == any.value());
  CHECK(out.pids().current() == 3);
  CHECK(out.pids().limit() == 100);
  CHECK(out.cpu().total_usage_ns() == 5000);
  CHECK(out.cpu().kernel_usage_ns() == 1000);
  CHECK(out.cpu().user_usage_ns() == 4000);
  CHECK(out.cpu().per_cpu_usage_ns_size() == 2);
  CHECK(out.cpu().throttled_time_ns() == 7);
  CHECK(out.memory().usage() == 4096);
  CHECK(out.memory().max_usage() == 8192);
  CHECK(out.memory().limit() == 1 << 20);
  CHECK(out.memory().cache() == 1024);
  CHECK(out.memory().rss() == 2048);
  CHECK(out.memory().stats().at("total_inactive_file") == 512);
  CHECK(out.memory().stats().at("rss") == 2048);
  CHECK(out.memory().stats().count("hierarchical_memsw_limit") == 1);
  REQUIRE(out.blkio().io_service_bytes_recursive_size() == 1);
  CHECK(out.blkio().io_service_bytes_recursive(0).op() == "Read");
  CHECK(out.blkio().io_service_bytes_recursive(0).value() == 42);

  // A type URL with a host prefix is the same type.
  any.set_type_url("type.googleapis.com/io.containerd.cgroups.v1.Metrics");
  api::StatsResponse prefixed;
  REQUIRE(FillStatsFromMetrics(any, &prefixed).ok());
  CHECK(prefixed.memory().usage() == 4096);
}

TEST_CASE("task stats: another metrics type passes through undecoded", "[stats]") {
  berth::wire::Any any;
  any.set_type_url("io.containerd.cgroups.v2.Metrics");
  any.set_value("\x0a\x02\x08\x01");
  api::StatsResponse out;
  REQUIRE(FillStatsFromMetrics(any, &out).ok());
  CHECK(out.metrics_type_url() == "io.containerd.cgroups.v2.Metrics");
  CHECK(out.metrics() == any.value());
  CHECK_FALSE(out.has_memory());

  any.set_type_url("io.containerd.cgroups.v1.Metrics");
  any.set_value("\xff\xff\xff");
  CHECK(FillStatsFromMetrics(any, &out).code() == absl::StatusCode::kDataLoss);
}
