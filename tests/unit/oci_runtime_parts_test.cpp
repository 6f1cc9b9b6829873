// Pure parts of berth-oci: mount options, signals, ids, rlimits, namespaces plans.
#include <signal.h>
#include <sys/mount.h>

#include <catch2/catch.hpp>

#include "lowlevel-runtime/commands.h"
#include "lowlevel-runtime/container_state.h"
#include "lowlevel-runtime/devices.h"
#include "lowlevel-runtime/mount_options.h"
#include "lowlevel-runtime/namespaces.h"
#include "lowlevel-runtime/process_setup.h"

using berth::oci::ParseMountOptions;

TEST_CASE("mount options become flags, propagation and data") {
  auto o = ParseMountOptions({"nosuid", "noexec", "nodev", "mode=755", "size=65536k", "ro"});
  CHECK(o.flags == (MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY));
  CHECK(o.data == "mode=755,size=65536k");
  CHECK_FALSE(o.bind);
  auto b = ParseMountOptions({"rbind", "rprivate", "rw", "exec"});
  CHECK(b.bind);
  CHECK(b.flags == (MS_BIND | MS_REC));
  REQUIRE(b.propagation.size() == 1);
  CHECK(b.propagation[0] == (MS_PRIVATE | MS_REC));
  // Later options override earlier ones, as in mount(8).
  CHECK(ParseMountOptions({"ro", "rw"}).flags == 0);
  CHECK(ParseMountOptions({"rro"}).recursive_readonly);
  CHECK(berth::oci::RootfsPropagationFlags("") == (MS_SLAVE | MS_REC));
  CHECK(berth::oci::RootfsPropagationFlags("shared") == MS_SHARED);
}

TEST_CASE("signals by name and number") {
  CHECK(*berth::oci::ParseSignal("KILL") == SIGKILL);
  CHECK(*berth::oci::ParseSignal("SIGTERM") == SIGTERM);
  CHECK(*berth::oci::ParseSignal("sigusr1") == SIGUSR1);
  CHECK(*berth::oci::ParseSignal("9") == 9);
  CHECK(*berth::oci::ParseSignal("RTMIN+1") == SIGRTMIN + 1);
  CHECK(berth::oci::ParseSignal("NOPE").status().message() == "unknown signal \"NOPE\"");
  CHECK_FALSE(berth::oci::ParseSignal("0").ok());
  CHECK_FALSE(berth::oci::ParseSignal("999").ok());
}

TEST_CASE("state JSON has runc's fields") {
  berth::oci::ContainerState s;
  s.id = "c1";
  s.pid = 42;
  s.bundle = "/b";
  s.rootfs = "/b/rootfs";
  s.created = "2026-11-28T00:00:00.000000001Z";
  auto j = berth::oci::StateJson(s, berth::oci::Status::kRunning);
  CHECK(j["status"] == "running");
  CHECK(j["pid"] == 42);
  CHECK(j.contains("ociVersion"));
  CHECK_FALSE(j.contains("annotations"));
  CHECK(berth::oci::StateJson(s, berth::oci::Status::kStopped)["pid"] == 0);
}

TEST_CASE("rlimits: unknown types and soft above hard are refused") {
  using berth::oci::Rlimit;
  CHECK(berth::oci::ValidateRlimits({Rlimit{"RLIMIT_NOFILE", 10, 5}}).ok());
  CHECK(berth::oci::ValidateRlimits({Rlimit{"RLIMIT_BOGUS", 1, 1}}).message() ==
        "process.rlimits: unknown rlimit type \"RLIMIT_BOGUS\"");
  CHECK(berth::oci::ValidateRlimits({Rlimit{"RLIMIT_NOFILE", 1, 2}}).message() ==
        "process.rlimits: RLIMIT_NOFILE soft limit 2 is above the hard limit 1");
}

TEST_CASE("namespace plans: duplicates, bad paths, mappings") {
  berth::oci::Linux linux;
  linux.namespaces = {{"pid", ""}, {"pid", ""}};
  CHECK(berth::oci::PlanNamespaces(linux).status().message() ==
        "linux.namespaces[1]: namespace \"pid\" listed twice");
  linux.namespaces = {{"network", "/proc/self/ns/uts"}};
  CHECK(berth::oci::PlanNamespaces(linux).status().message() ==
        "linux.namespaces[0].path: \"/proc/self/ns/uts\" is not a network namespace");
  linux.namespaces = {{"network", "/nonexistent/ns"}};
  CHECK(berth::oci::PlanNamespaces(linux).status().code() == absl::StatusCode::kNotFound);
  linux.namespaces = {{"user", ""}};
  CHECK_FALSE(berth::oci::PlanNamespaces(linux).ok());  // mappings required
  linux.uid_mappings = linux.gid_mappings = {{0, 100000, 65536}};
  auto plan = berth::oci::PlanNamespaces(linux);
  REQUIRE(plan.ok());
  CHECK(plan->new_user);
  linux.namespaces = {{"pid", ""}, {"mount", ""}, {"network", "/proc/self/ns/net"}};
  linux.uid_mappings.clear();
  linux.gid_mappings.clear();
  plan = berth::oci::PlanNamespaces(linux);
  REQUIRE(plan.ok());
  CHECK(plan->has_mount_ns);
  CHECK(plan->joins.size() == 1);
}

TEST_CASE("device cgroup rules: spec rules first, then the defaults and linux.devices") {
  berth::oci::Spec spec;
  spec.linux.resources = berth::oci::Resources{};
  spec.linux.resources->devices = {berth::oci::DeviceCgroupRule{}};  // deny all
  berth::oci::Device fuse;
  fuse.type = "c";
  fuse.path = "/dev/fuse";
  fuse.major = 10;
  fuse.minor = 229;
  spec.linux.devices = {fuse};
  auto res = berth::oci::EffectiveResources(spec);
  REQUIRE(res.devices.size() == 1 + berth::oci::DefaultAllowedDeviceRules().size() + 1);
  CHECK_FALSE(res.devices.front().allow);
  CHECK(res.devices.back().allow);
  CHECK(*res.devices.back().major == 10);
}

TEST_CASE("executables are found on the process PATH") {
  CHECK(*berth::oci::FindExecutable("sh", {"PATH=/nonexistent:/bin"}) == "/bin/sh");
  CHECK(*berth::oci::FindExecutable("/bin/sh", {}) == "/bin/sh");
  CHECK(berth::oci::FindExecutable("no-such-tool", {"PATH=/bin"}).status().message() ==
        "exec: \"no-such-tool\": executable file not found in $PATH");
  CHECK(berth::oci::FindExecutable("/etc/passwd", {}).status().message() ==
        "exec: \"/etc/passwd\": permission denied");
  CHECK(berth::oci::FindExecutable("/no/such", {}).status().code() == absl::StatusCode::kNotFound);
}
