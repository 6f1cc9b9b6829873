#include "lowlevel-runtime/cgroups/no_cgroup.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace berth::oci {
namespace {

absl::Status NoCgroupError(absl::string_view what) {
  return absl::FailedPreconditionError(
      absl::StrCat("cannot ", what,
                   ": the container has no cgroup (it was created rootless "
                   "without write access to the cgroup hierarchy)"));
}

}  // namespace

bool HasResourceLimits(const Resources& r) {
  return r.memory.has_value() || r.cpu.has_value() || r.pids.has_value() ||
         r.block_io.has_value() || !r.hugepage_limits.empty() || !r.unified.empty();
}

absl::Status NoCgroup::Create(const Resources* resources) {
  if (resources != nullptr && HasResourceLimits(*resources)) {
    return NoCgroupError("apply the resource limits in config.json");
  }
  return absl::OkStatus();
}

absl::Status NoCgroup::Apply(const Resources& resources) {
  if (HasResourceLimits(resources)) return NoCgroupError("update resource limits");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<pid_t>> NoCgroup::Pids() const {
  if (init_pid_ <= 0) return std::vector<pid_t>{};
  return std::vector<pid_t>{init_pid_};
}

absl::Status NoCgroup::Freeze(bool frozen) { return NoCgroupError(frozen ? "pause" : "resume"); }

}  // namespace berth::oci
