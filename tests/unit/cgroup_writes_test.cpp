// Conversion of linux.resources to cgroup v1 and v2 file values (runc's rules),
// and how one write is applied (fallback file, missing files), on a temp dir.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/fd_util.h"
#include "common/status.h"
#include "lowlevel-runtime/cgroups/cgroup_files.h"
#include "lowlevel-runtime/cgroups/cgroup_v1.h"
#include "lowlevel-runtime/cgroups/cgroup_v2.h"

using berth::oci::CgroupWrite;
using berth::oci::Resources;

namespace {

// "controller file=value" per write, easy to compare.
std::vector<std::string> Flat(const std::vector<CgroupWrite>& writes) {
  std::vector<std::string> out;
  for (const CgroupWrite& w : writes) {
    std::string line = w.controller + " " + w.file + "=" + w.value;
    if (!w.fallback_file.empty()) {
      line +=
          " | " + w.fallback_file + "=" + (w.fallback_value.empty() ? w.value : w.fallback_value);
    }
    out.push_back(line);
  }
  return out;
}

std::vector<std::string> V1(const Resources& r) {
  auto writes = berth::oci::CgroupV1Writes(r);
  REQUIRE(writes.ok());
  return Flat(*writes);
}

std::vector<std::string> V2(const Resources& r) {
  auto writes = berth::oci::CgroupV2Writes(r);
  REQUIRE(writes.ok());
  return Flat(*writes);
}

berth::oci::BlockIoDevice Dev(int64_t major, int64_t minor, uint64_t rate) {
  berth::oci::BlockIoDevice d;
  d.major = major;
  d.minor = minor;
  d.rate = rate;
  return d;
}

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/berth-cgroup-unit-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  void Touch(const std::string& name) const { std::ofstream(path + "/" + name).flush(); }
  std::string Read(const std::string& name) const {
    return *berth::ReadFileToString(path + "/" + name);
  }
  std::string path;
};

}  // namespace

TEST_CASE("cgroup writes: nothing set, nothing written") {
  Resources r;
  r.memory.emplace();
  r.cpu.emplace();
  r.block_io.emplace();
  CHECK(V1(r).empty());
  CHECK(V2(r).empty());
}

TEST_CASE("cgroup v1 writes: memory, swap as memsw, oom killer, swappiness") {
  Resources r;
  r.memory.emplace();
  r.memory->limit = 64 << 20;
  r.memory->reservation = 32 << 20;
  r.memory->swap = 128 << 20;
  r.memory->swappiness = 10;
  r.memory->disable_oom_killer = true;
  CHECK(V1(r) == std::vector<std::string>{
                     "memory memory.limit_in_bytes=67108864",
                     "memory memory.memsw.limit_in_bytes=134217728",
                     "memory memory.soft_limit_in_bytes=33554432",
                     "memory memory.swappiness=10",
                     "memory memory.oom_control=1",
                 });
  auto writes = berth::oci::CgroupV1Writes(r);
  CHECK((*writes)[1].if_missing == CgroupWrite::IfMissing::kWarn);

  Resources unlimited;
  unlimited.memory.emplace();
  unlimited.memory->limit = -1;
  CHECK(V1(unlimited) == std::vector<std::string>{"memory memory.limit_in_bytes=-1",
                                                  "memory memory.memsw.limit_in_bytes=-1"});

  r.memory->swappiness = 101;
  CHECK(berth::oci::CgroupV1Writes(r).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("cgroup v1 writes: cpu period before quota, cpuset, pids, hugetlb") {
  Resources r;
  r.cpu.emplace();
  r.cpu->shares = 512;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->realtime_period = 1000000;
  r.cpu->realtime_runtime = 950000;
  r.cpu->cpus = "0-1";
  r.cpu->mems = "0";
  r.pids.emplace();
  r.pids->limit = 100;
  r.hugepage_limits.push_back({"2MB", 4194304});
  CHECK(V1(r) == std::vector<std::string>{
                     "cpu cpu.shares=512",
                     "cpu cpu.cfs_period_us=100000",
                     "cpu cpu.cfs_quota_us=50000",
                     "cpu cpu.rt_period_us=1000000",
                     "cpu cpu.rt_runtime_us=950000",
                     "cpuset cpuset.cpus=0-1",
                     "cpuset cpuset.mems=0",
                     "pids pids.max=100",
                     "hugetlb hugetlb.2MB.limit_in_bytes=4194304",
                 });
  r.pids->limit = 0;
  r.cpu.reset();
  r.hugepage_limits.clear();
  CHECK(V1(r) == std::vector<std::string>{"pids pids.max=max"});
  r.hugepage_limits.push_back({"../x", 1});
  CHECK(berth::oci::CgroupV1Writes(r).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("cgroup v1 writes: device rules in order") {
  Resources r;
  r.devices.push_back({false, "a", std::nullopt, std::nullopt, "rwm"});
  r.devices.push_back({true, "c", 1, 3, "rwm"});
  r.devices.push_back({true, "c", 136, std::nullopt, "rw"});
  r.devices.push_back({true, "b", std::nullopt, std::nullopt, "m"});
  CHECK(V1(r) == std::vector<std::string>{
                     "devices devices.deny=a *:* rwm",
                     "devices devices.allow=c 1:3 rwm",
                     "devices devices.allow=c 136:* rw",
                     "devices devices.allow=b *:* m",
                 });
  r.devices.push_back({true, "x", 1, 1, "rwm"});
  CHECK(berth::oci::CgroupV1Writes(r).status().code() == absl::StatusCode::kInvalidArgument);
  r.devices.back() = {true, "c", 1, 1, "rwx"};
  CHECK(berth::oci::CgroupV1Writes(r).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("cgroup v1 writes: blkio weight (CFQ or BFQ) and throttles") {
  Resources r;
  r.block_io.emplace();
  r.block_io->weight = 500;
  berth::oci::BlockIoDevice wd = Dev(8, 0, 0);
  wd.weight = 300;
  r.block_io->weight_device.push_back(wd);
  r.block_io->throttle_read_bps_device.push_back(Dev(8, 0, 1048576));
  r.block_io->throttle_write_iops_device.push_back(Dev(8, 16, 100));
  CHECK(V1(r) == std::vector<std::string>{
                     "blkio blkio.weight=500 | blkio.bfq.weight=500",
                     "blkio blkio.weight_device=8:0 300 | blkio.bfq.weight_device=8:0 300",
                     "blkio blkio.throttle.read_bps_device=8:0 1048576",
                     "blkio blkio.throttle.write_iops_device=8:16 100",
                 });
}

TEST_CASE("cgroup v2 conversions: runc's formulas") {
  using berth::oci::BlkioWeightToIoWeight;
  using berth::oci::CpuSharesToWeight;
  CHECK(CpuSharesToWeight(0) == 0);
  CHECK(CpuSharesToWeight(2) == 1);
  CHECK(CpuSharesToWeight(512) == 20);
  CHECK(CpuSharesToWeight(1024) == 39);
  CHECK(CpuSharesToWeight(262144) == 10000);
  CHECK(CpuSharesToWeight(1) == 1);  // clamped, no underflow
  CHECK(CpuSharesToWeight(1 << 30) == 10000);
  CHECK(BlkioWeightToIoWeight(0) == 0);
  CHECK(BlkioWeightToIoWeight(10) == 1);
  CHECK(BlkioWeightToIoWeight(100) == 910);
  CHECK(BlkioWeightToIoWeight(500) == 4950);
  CHECK(BlkioWeightToIoWeight(1000) == 10000);

  using berth::oci::MemorySwapMax;
  CHECK(*MemorySwapMax(0, 0) == std::nullopt);
  CHECK(*MemorySwapMax(0, 1000) == std::nullopt);
  CHECK(*MemorySwapMax(0, -1) == "max");
  CHECK(*MemorySwapMax(-1, 1000) == "max");
  CHECK(*MemorySwapMax(3000, 1000) == "2000");
  CHECK(*MemorySwapMax(1000, 1000) == "0");
  CHECK(MemorySwapMax(500, 1000).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(MemorySwapMax(500, 0).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(MemorySwapMax(500, -1).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("cgroup v2 writes: memory, cpu, pids, io, hugetlb, unified but no device rules") {
  Resources r;
  r.devices.push_back({false, "a", std::nullopt, std::nullopt, "rwm"});
  r.memory.emplace();
  r.memory->limit = 64 << 20;
  r.memory->reservation = -1;
  r.memory->swap = 96 << 20;
  r.cpu.emplace();
  r.cpu->shares = 1024;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->cpus = "1";
  r.pids.emplace();
  r.pids->limit = -1;
  r.block_io.emplace();
  r.block_io->weight = 100;
  r.block_io->throttle_read_bps_device.push_back(Dev(8, 0, 1048576));
  r.block_io->throttle_write_bps_device.push_back(Dev(8, 0, 0));
  r.hugepage_limits.push_back({"1GB", 0});
  r.unified["memory.high"] = "50M";
  CHECK(V2(r) == std::vector<std::string>{
                     "memory memory.swap.max=33554432",
                     "memory memory.max=67108864",
                     "memory memory.low=max",
                     "cpu cpu.weight=39",
                     "cpu cpu.max=50000 100000",
                     "cpuset cpuset.cpus=1",
                     "pids pids.max=max",
                     "io io.bfq.weight=100 | io.weight=910",
                     "io io.max=8:0 rbps=1048576",
                     "io io.max=8:0 wbps=max",
                     "hugetlb hugetlb.1GB.max=0",
                     "unified memory.high=50M",
                 });

  Resources cpu;
  cpu.cpu.emplace();
  cpu.cpu->quota = -1;
  cpu.cpu->period = 100000;
  CHECK(V2(cpu) == std::vector<std::string>{"cpu cpu.max=max 100000"});
  cpu.cpu->period.reset();
  cpu.cpu->quota = 20000;
  CHECK(V2(cpu) == std::vector<std::string>{"cpu cpu.max=20000"});
  cpu.cpu->realtime_runtime = 1000;
  CHECK(berth::oci::CgroupV2Writes(cpu).status().code() == absl::StatusCode::kInvalidArgument);

  Resources same;  // swap == limit: no swap at all
  same.memory.emplace();
  same.memory->limit = 1000;
  same.memory->swap = 1000;
  auto writes = berth::oci::CgroupV2Writes(same);
  REQUIRE(writes.ok());
  CHECK(Flat(*writes) ==
        std::vector<std::string>{"memory memory.swap.max=0", "memory memory.max=1000"});
  CHECK((*writes)[0].if_missing == CgroupWrite::IfMissing::kSkip);

  Resources bad;
  bad.unified["../../etc/passwd"] = "x";
  CHECK(berth::oci::CgroupV2Writes(bad).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("ApplyCgroupWrite: fallback file, missing files, error names file and value") {
  TempDir dir;
  dir.Touch("blkio.bfq.weight");
  CgroupWrite weight;
  weight.controller = "blkio";
  weight.file = "blkio.weight";
  weight.value = "500";
  weight.fallback_file = "blkio.bfq.weight";
  REQUIRE(berth::oci::ApplyCgroupWrite(dir.path, weight).ok());
  CHECK(dir.Read("blkio.bfq.weight") == "500");

  CgroupWrite memsw;
  memsw.file = "memory.memsw.limit_in_bytes";
  memsw.value = "1000";
  auto missing = berth::oci::ApplyCgroupWrite(dir.path, memsw);
  CHECK(missing.code() == absl::StatusCode::kNotFound);
  CHECK(std::string(missing.message()) ==
        "write 1000 to " + dir.path + "/memory.memsw.limit_in_bytes: No such file or directory");
  CHECK(berth::ErrnoOf(missing) == ENOENT);
  memsw.if_missing = CgroupWrite::IfMissing::kWarn;
  CHECK(berth::oci::ApplyCgroupWrite(dir.path, memsw).ok());
  memsw.if_missing = CgroupWrite::IfMissing::kSkip;
  CHECK(berth::oci::ApplyCgroupWrite(dir.path, memsw).ok());
  CHECK_FALSE(std::filesystem::exists(dir.path + "/memory.memsw.limit_in_bytes"));
}

TEST_CASE("MakeCgroupDir reports what it created, top first, and RemoveCgroupDir is idempotent") {
  TempDir dir;
  std::vector<std::string> created;
  REQUIRE(berth::oci::MakeCgroupDir(dir.path + "/a/b/c", &created).ok());
  CHECK(created ==
        std::vector<std::string>{dir.path + "/a", dir.path + "/a/b", dir.path + "/a/b/c"});
  created.clear();
  REQUIRE(berth::oci::MakeCgroupDir(dir.path + "/a/b/c", &created).ok());
  CHECK(created.empty());
  // On a plain directory tree (no cgroup.procs) children go first.
  REQUIRE(berth::oci::RemoveCgroupDir(dir.path + "/a").ok());
  CHECK_FALSE(std::filesystem::exists(dir.path + "/a"));
  CHECK(berth::oci::RemoveCgroupDir(dir.path + "/a").ok());
}

TEST_CASE("FindKeyedValue reads cgroup.events style files") {
  CHECK(berth::oci::FindKeyedValue("populated 1\nfrozen 0\n", "frozen") == "0");
  CHECK(berth::oci::FindKeyedValue("populated 1\nfrozen 0\n", "froze") == std::nullopt);
}
