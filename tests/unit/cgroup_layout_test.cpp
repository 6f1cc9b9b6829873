// Layout detection from sample /proc/self/mountinfo and /proc/self/cgroup text,
// and how cgroupsPath maps onto each hierarchy.
#include "lowlevel-runtime/cgroups/cgroup_layout.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "lowlevel-runtime/cgroups/cgroup_hybrid.h"

using berth::oci::CgroupDirIn;
using berth::oci::CgroupHierarchy;
using berth::oci::CgroupLayout;
using berth::oci::CgroupMode;
using berth::oci::CleanCgroupsPath;
using berth::oci::ParseCgroupLayout;

namespace {

// This project's CI host: systemd hybrid, every v1 controller on its own mount.
constexpr const char* kHybridMountinfo =
    "22 1 0:20 / / rw,relatime - overlay overlay rw\n"
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
constexpr const char* kHybridCgroup =
    "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
    "4:memory:/process_api/0434\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n";

// Debian 10 style hybrid: co-mounted controllers, optional fields, extra options.
constexpr const char* kComountedMountinfo =
    "25 18 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
    "27 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid shared:5 - cgroup cgroup "
    "rw,xattr,name=systemd\n"
    "30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:10 - cgroup cgroup "
    "rw,cpu,cpuacct\n"
    "31 25 0:28 / /sys/fs/cgroup/net_cls,net_prio rw shared:11 - cgroup cgroup "
    "rw,net_cls,net_prio\n"
    "32 25 0:29 / /sys/fs/cgroup/memory rw shared:12 - cgroup cgroup rw,memory\n"
    "33 25 0:30 / /sys/fs/cgroup/rdma rw shared:13 - cgroup cgroup rw,rdma\n"
    "34 25 0:31 / /mnt/odd rw - cgroup none rw,name=other\n";
constexpr const char* kComountedCgroup =
    "12:rdma:/\n11:memory:/user.slice\n10:net_cls,net_prio:/\n"
    "9:cpu,cpuacct:/user.slice\n1:name=systemd:/user.slice/session-1.scope\n"
    "0::/user.slice/session-1.scope\n";

constexpr const char* kV2Mountinfo =
    "24 18 0:21 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

}  // namespace

TEST_CASE("ParseCgroupLayout: this host's hybrid layout, one mount per controller") {
  auto layout = ParseCgroupLayout(kHybridMountinfo, kHybridCgroup);
  REQUIRE(layout.ok());
  CHECK(layout->mode == CgroupMode::kHybrid);
  REQUIRE(layout->v1.size() == 9);
  REQUIRE(layout->unified.has_value());
  CHECK(layout->unified->mount_point == "/sys/fs/cgroup/unified");
  CHECK(layout->unified->own_cgroup == "/");
  const CgroupHierarchy* cpu = layout->FindV1("cpu");
  const CgroupHierarchy* cpuacct = layout->FindV1("cpuacct");
  REQUIRE(cpu != nullptr);
  REQUIRE(cpuacct != nullptr);
  CHECK(cpu != cpuacct);
  CHECK(cpu->mount_point == "/sys/fs/cgroup/cpu");
  CHECK(layout->FindV1("memory")->own_cgroup == "/process_api/0434");
  CHECK(layout->FindV1("name=systemd")->mount_point == "/sys/fs/cgroup/systemd");
  CHECK(layout->FindV1("hugetlb") == nullptr);
}

TEST_CASE("ParseCgroupLayout: co-mounted controllers and named hierarchies") {
  auto layout = ParseCgroupLayout(kComountedMountinfo, kComountedCgroup);
  REQUIRE(layout.ok());
  CHECK(layout->mode == CgroupMode::kHybrid);
  // name=other is not a hierarchy berth manages.
  REQUIRE(layout->v1.size() == 5);
  const CgroupHierarchy* cpu = layout->FindV1("cpu");
  REQUIRE(cpu != nullptr);
  CHECK(cpu == layout->FindV1("cpuacct"));
  CHECK(cpu->Name() == "cpu,cpuacct");
  CHECK(cpu->mount_point == "/sys/fs/cgroup/cpu,cpuacct");
  CHECK(cpu->own_cgroup == "/user.slice");
  CHECK(layout->FindV1("net_prio")->own_cgroup == "/");
  CHECK(layout->FindV1("name=systemd")->own_cgroup == "/user.slice/session-1.scope");
  CHECK(layout->unified->own_cgroup == "/user.slice/session-1.scope");
  CHECK(layout->FindV1("name=other") == nullptr);
}

TEST_CASE("ParseCgroupLayout: pure v2 and pure v1") {
  auto v2 = ParseCgroupLayout(kV2Mountinfo, "0::/init.scope\n");
  REQUIRE(v2.ok());
  CHECK(v2->mode == CgroupMode::kV2);
  CHECK(v2->v1.empty());
  CHECK(v2->unified->mount_point == "/sys/fs/cgroup");
  CHECK(v2->unified->own_cgroup == "/init.scope");

  auto v1 = ParseCgroupLayout(
      "31 30 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
      "32 30 0:29 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n",
      "2:pids:/a\n1:memory:/b\n");
  REQUIRE(v1.ok());
  CHECK(v1->mode == CgroupMode::kV1);
  CHECK_FALSE(v1->unified.has_value());
  CHECK(v1->FindV1("pids")->own_cgroup == "/a");

  auto none = ParseCgroupLayout("22 1 0:20 / / rw - ext4 /dev/sda rw\n", "");
  CHECK(none.status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("ParseCgroupLayout: escaped mount points, the mount's root, duplicates") {
  auto layout = ParseCgroupLayout(
      "31 30 0:28 /docker/abc /sys/fs/cgroup/my\\040memory rw - cgroup cgroup rw,memory\n"
      "32 30 0:28 / /elsewhere rw - cgroup cgroup rw,memory\n",
      "4:memory:/docker/abc\n");
  REQUIRE(layout.ok());
  REQUIRE(layout->v1.size() == 1);
  const CgroupHierarchy& memory = layout->v1[0];
  CHECK(memory.mount_point == "/sys/fs/cgroup/my memory");
  CHECK(memory.root == "/docker/abc");
  // Relative paths go below the own cgroup, which is the mount's root here.
  CHECK(CgroupDirIn(memory, "sub/x") == "/sys/fs/cgroup/my memory/sub/x");
  // Absolute ones from the mount's root.
  CHECK(CgroupDirIn(memory, "/berth-oci/x") == "/sys/fs/cgroup/my memory/berth-oci/x");
}

TEST_CASE("CgroupDirIn: relative paths below the caller's own cgroup") {
  CgroupHierarchy h;
  h.mount_point = "/sys/fs/cgroup/memory";
  h.root = "/";
  h.own_cgroup = "/process_api/0434";
  CHECK(CgroupDirIn(h, "c1") == "/sys/fs/cgroup/memory/process_api/0434/c1");
  CHECK(CgroupDirIn(h, "/c1") == "/sys/fs/cgroup/memory/c1");
  h.root = "/process_api";
  CHECK(CgroupDirIn(h, "c1") == "/sys/fs/cgroup/memory/0434/c1");
  h.root = "/other";  // own cgroup not visible under the mount: from its root
  CHECK(CgroupDirIn(h, "c1") == "/sys/fs/cgroup/memory/c1");
  h.root = "/";
  h.own_cgroup = "/";
  CHECK(CgroupDirIn(h, "c1") == "/sys/fs/cgroup/memory/c1");
}

TEST_CASE("CleanCgroupsPath: default, normalization, escapes, systemd paths") {
  CHECK(*CleanCgroupsPath("", "web") == "/berth-oci/web");
  CHECK(*CleanCgroupsPath("/a//b/./c/", "x") == "/a/b/c");
  CHECK(*CleanCgroupsPath("/a/../b", "x") == "/b");
  CHECK(*CleanCgroupsPath("a/b", "x") == "a/b");
  CHECK(CleanCgroupsPath("/../etc", "x").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(CleanCgroupsPath("a/../../b", "x").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(CleanCgroupsPath("/", "x").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(CleanCgroupsPath(".", "x").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(CleanCgroupsPath("", "../x").status().code() == absl::StatusCode::kInvalidArgument);
  auto systemd = CleanCgroupsPath("system.slice:berth:abc", "abc");
  CHECK(systemd.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(systemd.status().message()),
             Catch::Contains("--systemd-cgroup") && Catch::Contains("not supported"));
}

TEST_CASE("NewCgroupForLayout: one directory per hierarchy, memory first for hybrid") {
  auto layout = ParseCgroupLayout(kComountedMountinfo, kComountedCgroup);
  REQUIRE(layout.ok());
  auto cgroup = berth::oci::NewCgroupForLayout(*layout, "/berth-oci/c1");
  CHECK(cgroup->PrimaryPath() == "/sys/fs/cgroup/memory/berth-oci/c1");
  CHECK(cgroup->Paths() == std::vector<std::string>{
                               "/sys/fs/cgroup/systemd/berth-oci/c1",
                               "/sys/fs/cgroup/cpu,cpuacct/berth-oci/c1",
                               "/sys/fs/cgroup/net_cls,net_prio/berth-oci/c1",
                               "/sys/fs/cgroup/memory/berth-oci/c1",
                               "/sys/fs/cgroup/rdma/berth-oci/c1",
                               "/sys/fs/cgroup/unified/berth-oci/c1",
                           });
  auto relative = berth::oci::NewCgroupForLayout(*layout, "c1");
  CHECK(relative->PrimaryPath() == "/sys/fs/cgroup/memory/user.slice/c1");

  auto v2 = ParseCgroupLayout(kV2Mountinfo, "0::/init.scope\n");
  auto v2_cgroup = berth::oci::NewCgroupForLayout(*v2, "c1");
  CHECK(v2_cgroup->PrimaryPath() == "/sys/fs/cgroup/init.scope/c1");
  CHECK(v2_cgroup->Paths() == std::vector<std::string>{"/sys/fs/cgroup/init.scope/c1"});
}
