// Docker's capability sets and its default seccomp profile, filtered per container.
#include <algorithm>
#include <catch2/catch.hpp>

#include "engine/spec/capabilities.h"
#include "engine/spec/seccomp_profile.h"

using berth::Json;
using berth::engine::spec::ContainerCapabilities;
using berth::engine::spec::ConvertSeccompProfile;
using berth::engine::spec::DefaultCapabilities;
using berth::engine::spec::DefaultSeccompProfileText;
using berth::engine::spec::HostInfo;
using berth::engine::spec::KernelAtLeast;
using berth::engine::spec::LoadSeccompProfile;
using Caps = std::vector<std::string>;

namespace {

HostInfo TestHost() {
  HostInfo host;
  host.kernel_release = "6.1.0-18-amd64";
  host.arch = "amd64";
  host.last_cap = 40;
  return host;
}

bool Has(const Caps& caps, const std::string& name) {
  return std::find(caps.begin(), caps.end(), name) != caps.end();
}

Json DefaultProfile(const Caps& caps, const HostInfo& host = TestHost()) {
  auto profile = LoadSeccompProfile(DefaultSeccompProfileText(), caps, host);
  REQUIRE(profile.ok());
  REQUIRE(profile->has_value());
  return **profile;
}

// The rules naming `syscall`.
std::vector<Json> RulesFor(const Json& profile, const std::string& syscall) {
  std::vector<Json> rules;
  for (const Json& rule : profile["syscalls"]) {
    for (const Json& name : rule["names"]) {
      if (name == syscall) rules.push_back(rule);
    }
  }
  return rules;
}

bool Allowed(const Json& profile, const std::string& syscall) {
  for (const Json& rule : RulesFor(profile, syscall)) {
    if (rule["action"] == "SCMP_ACT_ALLOW" && !rule.contains("args")) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("caps: Docker's 14 defaults without CapAdd/CapDrop") {
  auto caps = ContainerCapabilities({}, {}, false, TestHost());
  REQUIRE(caps.ok());
  CHECK(*caps == DefaultCapabilities());
  CHECK(caps->size() == 14);
  CHECK(caps->front() == "CAP_CHOWN");
  CHECK(caps->back() == "CAP_AUDIT_WRITE");
}

TEST_CASE("caps: add and drop, case-insensitive, CAP_ prefix optional") {
  auto caps = ContainerCapabilities({"sys_admin", "CAP_SYS_PTRACE", "Net_Admin"},
                                    {"cap_chown", "MKNOD"}, false, TestHost());
  REQUIRE(caps.ok());
  CHECK(caps->size() == 15);
  CHECK(Has(*caps, "CAP_SYS_ADMIN"));
  CHECK(Has(*caps, "CAP_SYS_PTRACE"));
  CHECK(Has(*caps, "CAP_NET_ADMIN"));
  CHECK_FALSE(Has(*caps, "CAP_CHOWN"));
  CHECK_FALSE(Has(*caps, "CAP_MKNOD"));
  // Adding a default again does not repeat it.
  CHECK(ContainerCapabilities({"KILL"}, {}, false, TestHost())->size() == 14);
}

TEST_CASE("caps: ALL in CapAdd or CapDrop") {
  auto all_but = ContainerCapabilities({"ALL"}, {"SYS_ADMIN"}, false, TestHost());
  REQUIRE(all_but.ok());
  CHECK(all_but->size() == 40);  // 0..40 less SYS_ADMIN
  CHECK_FALSE(Has(*all_but, "CAP_SYS_ADMIN"));
  CHECK(Has(*all_but, "CAP_CHECKPOINT_RESTORE"));

  auto only = ContainerCapabilities({"NET_BIND_SERVICE"}, {"all"}, false, TestHost());
  REQUIRE(only.ok());
  CHECK(*only == Caps{"CAP_NET_BIND_SERVICE"});
  CHECK(ContainerCapabilities({}, {"ALL"}, false, TestHost())->empty());
}

TEST_CASE("caps: an unknown capability is dockerd's error") {
  auto caps = ContainerCapabilities({"FOO"}, {}, false, TestHost());
  REQUIRE_FALSE(caps.ok());
  CHECK(caps.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(caps.status().message() == "unknown capability: \"CAP_FOO\"");
  CHECK(ContainerCapabilities({}, {"cap_bar"}, false, TestHost()).status().message() ==
        "unknown capability: \"CAP_BAR\"");
  // Beyond what this kernel knows is unknown too.
  HostInfo old = TestHost();
  old.last_cap = 37;
  CHECK(ContainerCapabilities({"BPF"}, {}, false, old).status().message() ==
        "unknown capability: \"CAP_BPF\"");
}

TEST_CASE("caps: privileged gets what the host can grant") {
  HostInfo host = TestHost();
  auto all = ContainerCapabilities({}, {"ALL"}, true, host);
  REQUIRE(all.ok());
  CHECK(all->size() == 41);
  // A daemon without CAP_SYS_RESOURCE cannot hand it out: skipped, not an error.
  host.available_caps = *all;
  host.available_caps.erase(
      std::find(host.available_caps.begin(), host.available_caps.end(), "CAP_SYS_RESOURCE"));
  auto granted = ContainerCapabilities({}, {}, true, host);
  REQUIRE(granted.ok());
  CHECK(granted->size() == 40);
  CHECK_FALSE(Has(*granted, "CAP_SYS_RESOURCE"));
  auto added = ContainerCapabilities({"SYS_RESOURCE", "SYS_ADMIN"}, {}, false, host);
  REQUIRE(added.ok());
  CHECK(Has(*added, "CAP_SYS_ADMIN"));
  CHECK_FALSE(Has(*added, "CAP_SYS_RESOURCE"));
}

TEST_CASE("seccomp: the embedded profile is moby's default.json") {
  Json raw = Json::parse(DefaultSeccompProfileText());
  CHECK(raw["defaultAction"] == "SCMP_ACT_ERRNO");
  CHECK(raw["defaultErrnoRet"] == 1);
  CHECK(raw["archMap"].size() == 8);
  CHECK(raw["syscalls"][0]["names"].size() > 300);
}

TEST_CASE("seccomp: the default profile for Docker's default capabilities on amd64") {
  Json profile = DefaultProfile(DefaultCapabilities());
  CHECK(profile["defaultAction"] == "SCMP_ACT_ERRNO");
  CHECK(profile["defaultErrnoRet"] == 1);
  CHECK(profile["architectures"] == Json({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  CHECK_FALSE(profile.contains("archMap"));
  for (const Json& rule : profile["syscalls"]) {
    CHECK_FALSE(rule.contains("includes"));
    CHECK_FALSE(rule.contains("excludes"));
    CHECK_FALSE(rule.contains("comment"));
  }
  CHECK(Allowed(profile, "read"));
  CHECK(Allowed(profile, "arch_prctl"));     // amd64 only
  CHECK_FALSE(Allowed(profile, "set_tls"));  // arm only
  CHECK(Allowed(profile, "chroot"));         // CAP_SYS_CHROOT is a default
  CHECK(Allowed(profile, "ptrace"));         // kernel >= 4.8
  // The mount family and unshare need CAP_SYS_ADMIN.
  for (const char* name : {"mount", "umount2", "unshare", "setns", "bpf"}) {
    CAPTURE(name);
    CHECK(RulesFor(profile, name).empty());
  }
  CHECK(RulesFor(profile, "reboot").empty());
  CHECK(RulesFor(profile, "kcmp").empty());
  // clone only without namespace flags; clone3 answers ENOSYS so libc falls back to clone.
  auto clone = RulesFor(profile, "clone");
  REQUIRE(clone.size() == 1);
  CHECK(clone[0]["args"] ==
        Json::array({{{"index", 0}, {"value", 2114060288}, {"op", "SCMP_CMP_MASKED_EQ"}}}));
  auto clone3 = RulesFor(profile, "clone3");
  REQUIRE(clone3.size() == 1);
  CHECK(clone3[0]["action"] == "SCMP_ACT_ERRNO");
  CHECK(clone3[0]["errnoRet"] == 38);
  auto personality = RulesFor(profile, "personality");
  CHECK(personality.size() == 5);
  CHECK(personality[4]["args"][0]["value"] == 4294967295);
}

TEST_CASE("seccomp: capabilities open their syscalls") {
  Caps caps = DefaultCapabilities();
  caps.push_back("CAP_SYS_ADMIN");
  caps.push_back("CAP_SYS_PTRACE");
  caps.push_back("CAP_SYS_BOOT");
  Json profile = DefaultProfile(caps);
  for (const char* name : {"mount", "umount2", "unshare", "setns", "clone3", "kcmp", "reboot"}) {
    CAPTURE(name);
    CHECK(Allowed(profile, name));
  }
  // With CAP_SYS_ADMIN the filtered clone and clone3's ENOSYS rules go.
  CHECK(RulesFor(profile, "clone").size() == 1);
  CHECK_FALSE(RulesFor(profile, "clone")[0].contains("args"));
  CHECK(RulesFor(profile, "clone3").size() == 1);
  CHECK(RulesFor(profile, "clone3")[0]["action"] == "SCMP_ACT_ALLOW");

  Caps no_chroot = DefaultCapabilities();
  no_chroot.erase(std::find(no_chroot.begin(), no_chroot.end(), "CAP_SYS_CHROOT"));
  CHECK(RulesFor(DefaultProfile(no_chroot), "chroot").empty());
}

TEST_CASE("seccomp: arch and kernel filters") {
  HostInfo arm = TestHost();
  arm.arch = "arm64";
  Json profile = DefaultProfile(DefaultCapabilities(), arm);
  CHECK(profile["architectures"] == Json({"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}));
  CHECK(Allowed(profile, "set_tls"));
  CHECK_FALSE(Allowed(profile, "arch_prctl"));

  HostInfo s390 = TestHost();
  s390.arch = "s390x";
  auto clone = RulesFor(DefaultProfile(DefaultCapabilities(), s390), "clone");
  REQUIRE(clone.size() == 1);
  CHECK(clone[0]["args"][0]["index"] == 1);  // s390's argument order

  HostInfo old = TestHost();
  old.kernel_release = "4.4.0-210-generic";
  Json old_profile = DefaultProfile(DefaultCapabilities(), old);
  CHECK(RulesFor(old_profile, "ptrace").empty());

  HostInfo unknown = TestHost();
  unknown.arch = "sparc64";
  CHECK_FALSE(DefaultProfile(DefaultCapabilities(), unknown).contains("architectures"));
}

TEST_CASE("seccomp: kernel versions compare as moby's kernel package") {
  CHECK(*KernelAtLeast("6.1.0-18-amd64", "4.8"));
  CHECK(*KernelAtLeast("4.8", "4.8"));
  CHECK_FALSE(*KernelAtLeast("4.7.10", "4.8"));
  CHECK(*KernelAtLeast("4.10.0", "4.8"));
  CHECK(*KernelAtLeast("3.12-1-amd64", "3.12"));
  CHECK_FALSE(*KernelAtLeast("5.15.0", "5.15.1"));
  CHECK_FALSE(KernelAtLeast("6", "4.8").ok());
  CHECK_FALSE(KernelAtLeast("6.1", "x").ok());
}

TEST_CASE("seccomp: a user profile is converted the same way") {
  Json custom = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"architectures", {"SCMP_ARCH_X86_64"}},
      {"syscalls",
       {{{"name", "uname"}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 13}},
        {{"names", {"kill"}},
         {"action", "SCMP_ACT_ERRNO"},
         {"args", {{{"index", 1}, {"value", 9}, {"valueTwo", 0}, {"op", "SCMP_CMP_EQ"}}}},
         {"excludes", {{"caps", {"CAP_KILL"}}}}}}}};
  auto converted = ConvertSeccompProfile(custom, {"CAP_CHOWN"}, TestHost());
  REQUIRE(converted.ok());
  REQUIRE(converted->has_value());
  const Json& out = **converted;
  CHECK(out["architectures"] == Json({"SCMP_ARCH_X86_64"}));
  CHECK_FALSE(out.contains("defaultErrnoRet"));
  REQUIRE(out["syscalls"].size() == 2);
  CHECK(out["syscalls"][0] ==
        Json({{"names", {"uname"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 13}}));
  CHECK(out["syscalls"][1]["args"] ==
        Json::array({{{"index", 1}, {"value", 9}, {"op", "SCMP_CMP_EQ"}}}));
  // Excluded by a capability the container has.
  CHECK((*ConvertSeccompProfile(custom, {"CAP_KILL"}, TestHost()))->at("syscalls").size() == 1);

  // Nothing in it: seccomp off, as Docker.
  CHECK_FALSE(ConvertSeccompProfile(Json::object(), {}, TestHost())->has_value());
}

TEST_CASE("seccomp: bad profiles are errors") {
  Json both = {{"defaultAction", "SCMP_ACT_ALLOW"},
               {"architectures", {"SCMP_ARCH_X86_64"}},
               {"archMap", {{{"architecture", "SCMP_ARCH_X86_64"}}}}};
  CHECK(ConvertSeccompProfile(both, {}, TestHost()).status().message() ==
        "'architectures' and 'archMap' were specified in the seccomp profile, use either "
        "'architectures' or 'archMap'");
  Json names = {{"defaultAction", "SCMP_ACT_ALLOW"},
                {"syscalls", {{{"name", "a"}, {"names", {"b"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
  CHECK_FALSE(ConvertSeccompProfile(names, {}, TestHost()).ok());
  Json wrong_type = {{"defaultAction", 3}};
  auto status = ConvertSeccompProfile(wrong_type, {}, TestHost()).status();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message().find("Decoding seccomp profile failed") == 0);
  CHECK(LoadSeccompProfile("{not json", {}, TestHost())
            .status()
            .message()
            .find("Decoding seccomp profile failed: seccomp profile: invalid JSON") == 0);
}
