// `update ID` with resource flags or -r resources.json: new cgroup limits.
#include <iostream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "common/fd_util.h"
#include "common/json.h"
#include "common/oci/runtime_spec.h"
#include "common/status.h"
#include "lowlevel-runtime/cgroups/cgroup.h"
#include "lowlevel-runtime/commands.h"
#include "lowlevel-runtime/container_state.h"

namespace berth::oci {
namespace {

absl::StatusOr<Resources> ResourcesFrom(const UpdateOptions& o) {
  Resources r;
  if (!o.resources_path.empty()) {
    std::string text;
    if (o.resources_path == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      BERTH_ASSIGN_OR_RETURN(text, ReadFileToString(o.resources_path));
    }
    BERTH_ASSIGN_OR_RETURN(Json json,
                           ParseJson(text, o.resources_path == "-" ? "stdin" : o.resources_path));
    BERTH_ASSIGN_OR_RETURN(r, ParseResources(json, "resources"));
  }
  if (o.memory || o.memory_swap || o.memory_reservation) {
    if (!r.memory) r.memory = MemoryResources{};
    if (o.memory) r.memory->limit = o.memory;
    if (o.memory_swap) r.memory->swap = o.memory_swap;
    if (o.memory_reservation) r.memory->reservation = o.memory_reservation;
  }
  if (o.cpu_shares || o.cpu_quota || o.cpu_period || !o.cpuset_cpus.empty() ||
      !o.cpuset_mems.empty()) {
    if (!r.cpu) r.cpu = CpuResources{};
    if (o.cpu_shares) r.cpu->shares = o.cpu_shares;
    if (o.cpu_quota) r.cpu->quota = o.cpu_quota;
    if (o.cpu_period) r.cpu->period = o.cpu_period;
    if (!o.cpuset_cpus.empty()) r.cpu->cpus = o.cpuset_cpus;
    if (!o.cpuset_mems.empty()) r.cpu->mems = o.cpuset_mems;
  }
  if (o.pids_limit) r.pids = PidsResources{*o.pids_limit};
  if (o.blkio_weight) {
    if (!r.block_io) r.block_io = BlockIoResources{};
    r.block_io->weight = o.blkio_weight;
  }
  return r;
}

}  // namespace

absl::Status Update(const GlobalOptions& global, const UpdateOptions& options) {
  BERTH_ASSIGN_OR_RETURN(ContainerState state, LoadState(global.root, options.id));
  if (CurrentStatus(global.root, state) == Status::kStopped) {
    return absl::FailedPreconditionError("container not running");
  }
  BERTH_ASSIGN_OR_RETURN(Resources resources, ResourcesFrom(options));
  BERTH_ASSIGN_OR_RETURN(auto cgroup, OpenContainerCgroup(state));
  return cgroup->Apply(resources);
}

}  // namespace berth::oci
