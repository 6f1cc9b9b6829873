#include "engine/spec/host_info.h"

#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/fd_util.h"
#include "engine/spec/capabilities.h"

namespace berth::engine::spec {
namespace {

// moby's goToNative[runtime.GOARCH], decided at compile time as Go does.
const char* NativeArch() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__i386__)
  return "x86";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return "ppc64le";
#elif defined(__powerpc64__)
  return "ppc64";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#elif defined(__mips64) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return "mipsel64";
#elif defined(__mips64)
  return "mips64";
#else
  return "";
#endif
}

// The capabilities in /proc/self/status's CapEff, by name; empty when unreadable.
std::vector<std::string> EffectiveCapabilities(int last_cap) {
  auto status = ReadFileToString("/proc/self/status");
  if (!status.ok()) return {};
  for (absl::string_view line : absl::StrSplit(*status, '\n')) {
    if (!absl::ConsumePrefix(&line, "CapEff:")) continue;
    uint64_t mask = 0;
    if (!absl::SimpleHexAtoi(absl::StripAsciiWhitespace(line), &mask)) return {};
    std::vector<std::string> names;
    for (const std::string& name : AllCapabilities(last_cap)) {
      int number = CapabilityNumber(name);
      if (number >= 0 && number < 64 && (mask >> number) & 1) names.push_back(name);
    }
    return names;
  }
  return {};
}

}  // namespace

HostInfo ProbeHost() {
  HostInfo host;
  struct statfs fs {};
  host.cgroup2 = ::statfs("/sys/fs/cgroup", &fs) == 0 &&
                 static_cast<uint64_t>(fs.f_type) == CGROUP2_SUPER_MAGIC;
  struct utsname uts {};
  if (::uname(&uts) == 0) host.kernel_release = uts.release;
  host.arch = NativeArch();
  if (auto text = ReadFileToString("/proc/sys/kernel/cap_last_cap"); text.ok()) {
    int last = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &last) && last > 0) {
      host.last_cap = last;
    }
  }
  host.available_caps = EffectiveCapabilities(host.last_cap);
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) == 0) host.hostname = name;
  host.has_ping_group_range = ::access("/proc/sys/net/ipv4/ping_group_range", F_OK) == 0;
  host.has_unprivileged_port_start =
      ::access("/proc/sys/net/ipv4/ip_unprivileged_port_start", F_OK) == 0;
  return host;
}

const HostInfo& LocalHost() {
  static const HostInfo* const host = new HostInfo(ProbeHost());
  return *host;
}

}  // namespace berth::engine::spec
