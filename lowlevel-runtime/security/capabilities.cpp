#include "lowlevel-runtime/security/capabilities.h"

#include <sys/capability.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status.h"

namespace berth::oci {
namespace {

struct CapFree {
  void operator()(void* p) const { cap_free(p); }
};
using CapState = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;

// One bit per capability number; the kernel has fewer than 64.
using CapMask = uint64_t;

CapMask MaskOf(const std::vector<int>& caps) {
  CapMask mask = 0;
  for (int cap : caps) mask |= CapMask{1} << cap;
  return mask;
}

}  // namespace

int LastCapability() {
  // libcap probes the running kernel once, at load time.
  static const int last = cap_max_bits() - 1;
  return last;
}

std::string CapabilityName(int cap) {
  char* name = cap_to_name(cap);
  if (name == nullptr) return absl::StrCat(cap);
  std::string upper = absl::AsciiStrToUpper(name);
  cap_free(name);
  return upper;
}

absl::StatusOr<std::vector<int>> CapabilityNumbers(const std::vector<std::string>& names,
                                                   const std::string& field, int last_cap) {
  std::vector<int> caps;
  caps.reserve(names.size());
  for (const std::string& name : names) {
    cap_value_t cap = 0;
    // cap_from_name also takes plain numbers; the spec only has names.
    if (!absl::StartsWithIgnoreCase(name, "CAP_") || cap_from_name(name.c_str(), &cap) != 0 ||
        cap < 0 || cap >= 64) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": unknown capability \"", name, "\""));
    }
    if (cap > last_cap) {
      LogWarn("{}: capability {} is not known to the running kernel, skipping it", field, name);
      continue;
    }
    caps.push_back(cap);
  }
  return caps;
}

absl::StatusOr<std::vector<int>> CapabilityNumbers(const std::vector<std::string>& names,
                                                   const std::string& field) {
  return CapabilityNumbers(names, field, LastCapability());
}

absl::Status ValidateCapabilities(const Capabilities& caps) {
  const std::pair<const std::vector<std::string>*, const char*> sets[] = {
      {&caps.bounding, "process.capabilities.bounding"},
      {&caps.effective, "process.capabilities.effective"},
      {&caps.inheritable, "process.capabilities.inheritable"},
      {&caps.permitted, "process.capabilities.permitted"},
      {&caps.ambient, "process.capabilities.ambient"},
  };
  for (const auto& [names, field] : sets) {
    BERTH_RETURN_IF_ERROR(CapabilityNumbers(*names, field).status());
  }
  return absl::OkStatus();
}

absl::Status ApplyBoundingSet(const Capabilities& caps) {
  BERTH_ASSIGN_OR_RETURN(std::vector<int> bounding,
                         CapabilityNumbers(caps.bounding, "process.capabilities.bounding"));
  const CapMask keep = MaskOf(bounding);
  const int last = LastCapability();
  for (int cap = 0; cap <= last; ++cap) {
    if ((keep & (CapMask{1} << cap)) != 0) continue;
    if (cap_drop_bound(cap) != 0) {
      return LastErrnoError(absl::StrCat("drop ", CapabilityName(cap), " from the bounding set"));
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyCapabilities(const Capabilities& caps) {
  BERTH_ASSIGN_OR_RETURN(std::vector<int> effective,
                         CapabilityNumbers(caps.effective, "process.capabilities.effective"));
  BERTH_ASSIGN_OR_RETURN(std::vector<int> permitted,
                         CapabilityNumbers(caps.permitted, "process.capabilities.permitted"));
  BERTH_ASSIGN_OR_RETURN(std::vector<int> inheritable,
                         CapabilityNumbers(caps.inheritable, "process.capabilities.inheritable"));
  BERTH_ASSIGN_OR_RETURN(std::vector<int> ambient,
                         CapabilityNumbers(caps.ambient, "process.capabilities.ambient"));

  CapState state(cap_init());  // every flag clear
  if (state == nullptr) return LastErrnoError("allocate capability state");
  const std::pair<const std::vector<int>*, cap_flag_t> flags[] = {
      {&effective, CAP_EFFECTIVE}, {&permitted, CAP_PERMITTED}, {&inheritable, CAP_INHERITABLE}};
  for (const auto& [set, flag] : flags) {
    if (set->empty()) continue;
    if (cap_set_flag(state.get(), flag, static_cast<int>(set->size()), set->data(), CAP_SET) != 0) {
      return LastErrnoError("build capability state");
    }
  }
  if (cap_set_proc(state.get()) != 0) {
    return LastErrnoError("set effective, permitted and inheritable capabilities");
  }

  // The ambient set is inherited across fork: start from nothing.
  if (cap_reset_ambient() != 0) return LastErrnoError("clear ambient capabilities");
  // As runc: an ambient capability that cannot be raised (the kernel wants it
  // permitted and inheritable; `runc spec` leaves inheritable empty) is a
  // warning, not a failure.
  for (int cap : ambient) {
    if (cap_set_ambient(cap, CAP_SET) != 0) {
      std::string reason = std::strerror(errno);
      reason[0] = absl::ascii_tolower(reason[0]);  // Go's wording: "operation not permitted"
      LogWarn("can't raise ambient capability {}: {}", CapabilityName(cap), reason);
    }
  }
  return absl::OkStatus();
}

}  // namespace berth::oci
