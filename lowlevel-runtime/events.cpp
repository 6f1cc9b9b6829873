// `events ID [--stats] [--interval 5s]`: JSON lines of cgroup statistics and
// OOM notifications, as runc writes them, until the container stops.
#include <poll.h>

#include <cerrno>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/json.h"
#include "common/log.h"
#include "common/status.h"
#include "lowlevel-runtime/cgroups/cgroup.h"
#include "lowlevel-runtime/cgroups/cgroup_stats.h"
#include "lowlevel-runtime/commands.h"
#include "lowlevel-runtime/container_state.h"

namespace berth::oci {
namespace {

void Emit(const std::string& type, const std::string& id, const Json* data) {
  Json event = {{"type", type}, {"id", id}};
  if (data != nullptr) event["data"] = *data;
  std::cout << DumpJson(event) << std::endl;  // one line each, flushed for readers
}

}  // namespace

absl::Status Events(const GlobalOptions& global, const std::string& id, bool stats_only,
                    const std::string& interval_text) {
  absl::Duration interval;
  if (!absl::ParseDuration(interval_text, &interval) || interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--interval: \"", interval_text, "\" is not a positive duration (5s, 500ms)"));
  }
  BERTH_ASSIGN_OR_RETURN(ContainerState state, LoadState(global.root, id));
  if (CurrentStatus(global.root, state) == Status::kStopped) {
    return absl::FailedPreconditionError(absl::StrCat("container ", id, " is not running"));
  }
  BERTH_ASSIGN_OR_RETURN(auto cgroup, OpenContainerCgroup(state));
  std::vector<std::string> dirs = cgroup->Paths();
  if (stats_only) {
    Json stats = CgroupStats(dirs);
    Emit("stats", id, &stats);
    return absl::OkStatus();
  }
  auto watch = OomWatch::Open(dirs);
  if (!watch.ok()) LogWarn("no OOM notifications: {}", watch.status().message());
  absl::Time next_stats = absl::Now() + interval;
  while (InitAlive(state)) {
    // Wake at least every 100 ms to notice the container stopping.
    int timeout_ms = static_cast<int>(std::min<int64_t>(
        100, std::max<int64_t>(0, absl::ToInt64Milliseconds(next_stats - absl::Now()))));
    struct pollfd pfd = {watch.ok() ? watch->fd() : -1, POLLIN, 0};
    int ready = ::poll(&pfd, 1, timeout_ms);
    if (ready < 0 && errno != EINTR) return LastErrnoError("poll");
    if (ready > 0 && watch.ok() && watch->Consume()) Emit("oom", id, nullptr);
    if (absl::Now() >= next_stats) {
      Json stats = CgroupStats(dirs);
      Emit("stats", id, &stats);
      next_stats += interval;
    }
  }
  return absl::OkStatus();
}

}  // namespace berth::oci
