#include <catch2/catch.hpp>
#include <string>

#include "common/oci/runtime_spec.h"

namespace {

std::string Minimal(const std::string& extra = "") {
  return R"({"ociVersion": "1.0.2", "root": {"path": "rootfs"},
             "process": {"args": ["sh"], "cwd": "/"})" +
         extra + "}";
}

std::string ErrorOf(const std::string& text) {
  auto spec = berth::oci::ParseSpec(text, "config.json");
  REQUIRE_FALSE(spec.ok());
  return std::string(spec.status().message());
}

}  // namespace

TEST_CASE("a minimal spec parses with defaults") {
  auto spec = berth::oci::ParseSpec(Minimal(), "config.json");
  REQUIRE(spec.ok());
  CHECK(spec->root.path == "rootfs");
  CHECK_FALSE(spec->root.readonly);
  REQUIRE(spec->process.has_value());
  CHECK(spec->process->args == std::vector<std::string>{"sh"});
  CHECK(spec->process->user.uid == 0);
  CHECK_FALSE(spec->linux.resources.has_value());
}

TEST_CASE("the default spec (berth-oci spec) parses back") {
  for (bool rootless : {false, true}) {
    auto spec = berth::oci::ParseSpec(berth::oci::DefaultSpecJson(rootless).dump(), "default");
    REQUIRE(spec.ok());
    CHECK(spec->process->terminal);
    CHECK(spec->linux.masked_paths.size() == 10);
    bool has_user = false;
    for (const auto& ns : spec->linux.namespaces) has_user |= ns.type == "user";
    CHECK(has_user == rootless);
  }
}

TEST_CASE("every field of interest is read") {
  auto spec = berth::oci::ParseSpec(
      Minimal(R"(, "hostname": "h", "mounts": [{"destination": "/tmp", "type": "tmpfs",
        "options": ["nosuid"]}], "hooks": {"poststop": [{"path": "/bin/true", "timeout": 3}]},
        "linux": {"namespaces": [{"type": "pid"}, {"type": "network", "path": "/run/netns/x"}],
        "resources": {"memory": {"limit": 1048576}, "pids": {"limit": 5},
                      "cpu": {"quota": 50000, "period": 100000, "cpus": "0"},
                      "devices": [{"allow": false, "access": "rwm"}]},
        "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"],
          "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "args": [{"index": 0, "value": 1,
          "op": "SCMP_CMP_EQ"}]}]},
        "sysctl": {"net.ipv4.ip_forward": "1"}, "cgroupsPath": "/a/b"})"),
      "config.json");
  REQUIRE(spec.ok());
  CHECK(spec->hostname == "h");
  CHECK(spec->mounts[0].options == std::vector<std::string>{"nosuid"});
  CHECK(*spec->hooks.poststop[0].timeout == 3);
  CHECK(spec->linux.namespaces[1].path == "/run/netns/x");
  CHECK(*spec->linux.resources->memory->limit == 1048576);
  CHECK(spec->linux.resources->pids->limit == 5);
  CHECK(spec->linux.resources->cpu->cpus == "0");
  CHECK_FALSE(spec->linux.resources->devices[0].allow);
  CHECK(spec->linux.resources->devices[0].type == "a");
  CHECK(*spec->linux.seccomp->syscalls[0].errno_ret == 38);
  CHECK(spec->linux.seccomp->syscalls[0].args[0].op == "SCMP_CMP_EQ");
  CHECK(spec->linux.sysctl.at("net.ipv4.ip_forward") == "1");
  CHECK(spec->linux.cgroups_path == "/a/b");
}

TEST_CASE("errors name the document and the field") {
  CHECK(ErrorOf("{").rfind("config.json: invalid JSON", 0) == 0);
  CHECK(ErrorOf(R"({"root": {"path": "r"}})") == "config.json: ociVersion: missing");
  CHECK(ErrorOf(Minimal(R"(, "linux": {"namespaces": [{"type": "bogus"}]})")) ==
        "config.json: linux.namespaces[0].type: unknown namespace type \"bogus\"");
  CHECK(ErrorOf(Minimal(R"(, "mounts": [{"destination": "tmp"}])")) ==
        "config.json: mounts[0].destination: \"tmp\" is not an absolute path");
  CHECK(ErrorOf(Minimal(R"(, "linux": {"resources": {"memory": {"limit": "lots"}}})")) ==
        "config.json: linux.resources.memory.limit: unexpected string value \"lots\"");
  CHECK(ErrorOf(R"({"ociVersion": "1", "root": {"path": "r"}, "process": {"args": []}})") ==
        "config.json: process.args: must not be empty");
  CHECK(ErrorOf(R"({"ociVersion": "1", "root": {"path": "r"},
                   "process": {"args": ["sh"], "cwd": "relative"}})") ==
        "config.json: process.cwd: \"relative\" is not an absolute path");
  CHECK(ErrorOf(Minimal(R"(, "linux": {"devices": [{"type": "x", "path": "/dev/x"}]})")) ==
        "config.json: linux.devices[0].type: unknown device type \"x\" (want c, b, u or p)");
  CHECK(ErrorOf(Minimal(R"(, "linux": {"rootfsPropagation": "sideways"})")) ==
        "config.json: linux.rootfsPropagation: unknown propagation \"sideways\"");
  CHECK(ErrorOf(Minimal(R"(, "hooks": {"prestart": [{"path": "/x", "timeout": 0}]})")) ==
        "config.json: hooks.prestart[0].timeout: must be positive");
  CHECK(ErrorOf(R"([1, 2])") == "config.json: config: expected an object, got array");
}
