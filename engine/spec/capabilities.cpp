#include "engine/spec/capabilities.h"

#include <sys/capability.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace berth::engine::spec {
namespace {

constexpr char kAll[] = "ALL";

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// libcap's name for a capability number, upper-cased; "" when libcap has none
// (it then answers with the bare number).
std::string LibcapName(int number) {
  char* name = ::cap_to_name(static_cast<cap_value_t>(number));
  if (name == nullptr) return "";
  std::string upper = absl::AsciiStrToUpper(name);
  ::cap_free(name);
  if (!absl::StartsWith(upper, "CAP_")) return "";
  return upper;
}

}  // namespace

std::vector<std::string> DefaultCapabilities() {
  return {"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
          "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
          "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
          "CAP_KILL",    "CAP_AUDIT_WRITE"};
}

std::vector<std::string> AllCapabilities(int last_cap) {
  std::vector<std::string> names;
  for (int number = 0; number <= last_cap; ++number) {
    std::string name = LibcapName(number);
    if (!name.empty()) names.push_back(std::move(name));
  }
  return names;
}

int CapabilityNumber(const std::string& name) {
  cap_value_t value = 0;
  if (::cap_from_name(absl::AsciiStrToLower(name).c_str(), &value) != 0) return -1;
  return static_cast<int>(value);
}

std::vector<std::string> GrantableCapabilities(const HostInfo& host) {
  std::vector<std::string> all = AllCapabilities(host.last_cap);
  if (host.available_caps.empty()) return all;
  std::vector<std::string> grantable;
  for (const std::string& name : all) {
    if (Contains(host.available_caps, name)) grantable.push_back(name);
  }
  return grantable;
}

absl::StatusOr<std::vector<std::string>> NormalizeCapabilities(const std::vector<std::string>& caps,
                                                               const HostInfo& host) {
  const std::vector<std::string> known = AllCapabilities(host.last_cap);
  std::vector<std::string> normalized;
  for (const std::string& cap : caps) {
    std::string name = absl::AsciiStrToUpper(cap);
    if (name == kAll) {
      normalized.push_back(name);
      continue;
    }
    if (!absl::StartsWith(name, "CAP_")) name = absl::StrCat("CAP_", name);
    if (!Contains(known, name)) {
      return absl::InvalidArgumentError(absl::StrCat("unknown capability: \"", name, "\""));
    }
    if (!host.available_caps.empty() && !Contains(host.available_caps, name)) continue;
    normalized.push_back(std::move(name));
  }
  return normalized;
}

absl::StatusOr<std::vector<std::string>> ContainerCapabilities(const std::vector<std::string>& add,
                                                               const std::vector<std::string>& drop,
                                                               bool privileged,
                                                               const HostInfo& host) {
  if (privileged) return GrantableCapabilities(host);
  if (add.empty() && drop.empty()) return DefaultCapabilities();
  // Drops first, as moby: an unknown name in either list is the error reported.
  auto cap_drop = NormalizeCapabilities(drop, host);
  if (!cap_drop.ok()) return cap_drop.status();
  auto cap_add = NormalizeCapabilities(add, host);
  if (!cap_add.ok()) return cap_add.status();
  std::vector<std::string> caps;
  if (Contains(*cap_add, kAll)) {
    for (const std::string& name : GrantableCapabilities(host)) {
      if (!Contains(*cap_drop, name)) caps.push_back(name);
    }
  } else if (Contains(*cap_drop, kAll)) {
    caps = *cap_add;
  } else {
    for (const std::string& name : DefaultCapabilities()) {
      if (!Contains(*cap_drop, name)) caps.push_back(name);
    }
    // Docker appends CapAdd as is; a capability already granted is not repeated here.
    for (const std::string& name : *cap_add) {
      if (!Contains(caps, name)) caps.push_back(name);
    }
  }
  return caps;
}

}  // namespace berth::engine::spec
