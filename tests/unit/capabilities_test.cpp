#include "lowlevel-runtime/security/capabilities.h"

#include <fcntl.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace {

using berth::oci::Capabilities;

// Runs body() in a forked child; returns what it returned (the child's
// output), or a description of how the child failed.
std::string InChild(const std::function<std::string()>& body) {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    std::string out = body();
    if (::write(fds[1], out.data(), out.size()) != static_cast<ssize_t>(out.size())) ::_exit(2);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "child failed";
  return out;
}

// "CapInh=... CapPrm=... CapEff=... CapBnd=... CapAmb=..." from /proc/self/status.
std::string CapLines() {
  std::ifstream status("/proc/self/status");
  std::string line, out;
  while (std::getline(status, line)) {
    if (line.rfind("Cap", 0) != 0) continue;
    auto tab = line.find(":\t");
    if (!out.empty()) out += ' ';
    out += line.substr(0, tab) + "=" + line.substr(tab + 2);
  }
  return out;
}

// Applying capabilities needs CAP_SETPCAP (root, in practice).
bool CanApply() {
  cap_t caps = cap_get_proc();
  cap_flag_value_t setpcap = CAP_CLEAR;
  cap_get_flag(caps, CAP_SETPCAP, CAP_EFFECTIVE, &setpcap);
  cap_free(caps);
  if (setpcap != CAP_SET) WARN("not checked: needs CAP_SETPCAP");
  return setpcap == CAP_SET;
}

std::string Apply(const Capabilities& caps) {
  absl::Status st = berth::oci::ApplyBoundingSet(caps);
  if (st.ok()) st = berth::oci::ApplyCapabilities(caps);
  if (!st.ok()) return std::string(st.message());
  return CapLines();
}

}  // namespace

TEST_CASE("capabilities: names map to numbers") {
  auto caps = berth::oci::CapabilityNumbers({"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"},
                                            "process.capabilities.bounding");
  REQUIRE(caps.ok());
  CHECK(*caps == std::vector<int>{CAP_KILL, CAP_NET_BIND_SERVICE, CAP_SYS_ADMIN});
  CHECK(berth::oci::CapabilityName(CAP_SYS_ADMIN) == "CAP_SYS_ADMIN");
  CHECK(berth::oci::LastCapability() >= CAP_AUDIT_READ);  // 37, Linux 3.16
}

TEST_CASE("capabilities: an unknown name is an error naming the set") {
  for (const char* bad : {"CAP_FOO", "KILL", "12", ""}) {
    auto caps = berth::oci::CapabilityNumbers({"CAP_KILL", bad}, "process.capabilities.effective");
    REQUIRE_FALSE(caps.ok());
    CHECK(caps.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(caps.status().message() ==
          std::string("process.capabilities.effective: unknown capability \"") + bad + "\"");
  }
}

TEST_CASE("capabilities: a name the kernel does not know is skipped") {
  auto caps = berth::oci::CapabilityNumbers({"CAP_KILL", "CAP_SYS_ADMIN", "CAP_NET_BIND_SERVICE"},
                                            "process.capabilities.bounding", CAP_NET_BIND_SERVICE);
  REQUIRE(caps.ok());
  CHECK(*caps == std::vector<int>{CAP_KILL, CAP_NET_BIND_SERVICE});
}

TEST_CASE("capabilities: validation checks every set") {
  Capabilities caps;
  caps.bounding = caps.effective = caps.permitted = caps.inheritable = caps.ambient = {"CAP_KILL"};
  CHECK(berth::oci::ValidateCapabilities(caps).ok());
  caps.ambient = {"CAP_KILL", "CAP_NOPE"};
  CHECK(berth::oci::ValidateCapabilities(caps).message() ==
        "process.capabilities.ambient: unknown capability \"CAP_NOPE\"");
  caps.inheritable = {"CAP_WHAT"};
  CHECK(berth::oci::ValidateCapabilities(caps).message() ==
        "process.capabilities.inheritable: unknown capability \"CAP_WHAT\"");
  caps.bounding = {"cap_sys_admin", "CAP_BAD"};
  CHECK(berth::oci::ValidateCapabilities(caps).message() ==
        "process.capabilities.bounding: unknown capability \"CAP_BAD\"");
}

TEST_CASE("capabilities: applied sets are what the process holds") {
  if (!CanApply()) return;
  Capabilities caps;
  caps.bounding = caps.effective = caps.permitted = {"CAP_KILL", "CAP_NET_BIND_SERVICE"};
  // CAP_KILL = 5, CAP_NET_BIND_SERVICE = 10.
  CHECK(InChild([&] { return Apply(caps); }) ==
        "CapInh=0000000000000000 CapPrm=0000000000000420 CapEff=0000000000000420 "
        "CapBnd=0000000000000420 CapAmb=0000000000000000");

  caps.effective = {"CAP_KILL"};
  caps.inheritable = {"CAP_NET_BIND_SERVICE"};
  CHECK(InChild([&] { return Apply(caps); }) ==
        "CapInh=0000000000000400 CapPrm=0000000000000420 CapEff=0000000000000020 "
        "CapBnd=0000000000000420 CapAmb=0000000000000000");

  // Empty sets: nothing at all.
  CHECK(InChild([&] { return Apply(Capabilities{}); }) ==
        "CapInh=0000000000000000 CapPrm=0000000000000000 CapEff=0000000000000000 "
        "CapBnd=0000000000000000 CapAmb=0000000000000000");
}

TEST_CASE("capabilities: ambient capabilities are raised, and cleared when not asked for") {
  if (!CanApply()) return;
  Capabilities caps;
  caps.bounding = caps.effective = caps.permitted =
      caps.inheritable = {"CAP_KILL", "CAP_NET_BIND_SERVICE"};
  caps.ambient = {"CAP_NET_BIND_SERVICE"};
  CHECK(InChild([&] { return Apply(caps); }) ==
        "CapInh=0000000000000420 CapPrm=0000000000000420 CapEff=0000000000000420 "
        "CapBnd=0000000000000420 CapAmb=0000000000000400");

  // An ambient capability inherited from the runtime does not survive.
  caps.ambient.clear();
  CHECK(InChild([&]() -> std::string {
          cap_t current = cap_get_proc();
          const cap_value_t kill = CAP_KILL;
          cap_set_flag(current, CAP_INHERITABLE, 1, &kill, CAP_SET);
          if (cap_set_proc(current) != 0 || cap_set_ambient(CAP_KILL, CAP_SET) != 0) {
            return "setup failed";
          }
          cap_free(current);
          return Apply(caps);
        }) ==
        "CapInh=0000000000000420 CapPrm=0000000000000420 CapEff=0000000000000420 "
        "CapBnd=0000000000000420 CapAmb=0000000000000000");
}

TEST_CASE("capabilities: an ambient capability that cannot be raised is skipped, as in runc") {
  if (!CanApply()) return;
  Capabilities caps;
  caps.bounding = caps.effective = caps.permitted = {"CAP_KILL", "CAP_NET_BIND_SERVICE"};
  caps.inheritable = {"CAP_KILL"};
  caps.ambient = {"CAP_KILL", "CAP_NET_BIND_SERVICE"};
  // CAP_NET_BIND_SERVICE is not inheritable: only CAP_KILL becomes ambient.
  CHECK(InChild([&] { return Apply(caps); }) ==
        "CapInh=0000000000000020 CapPrm=0000000000000420 CapEff=0000000000000420 "
        "CapBnd=0000000000000420 CapAmb=0000000000000020");
}
