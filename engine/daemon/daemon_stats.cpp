// docker stats: the container's task's cgroup through berth-runtimed's
// Tasks.Stats (the JSON is container_stats.cpp's).
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "engine/daemon/daemon.h"

namespace berth::engine {

absl::StatusOr<Daemon::StatsTarget> Daemon::ForStats(const std::string& ref) {
  BERTH_ASSIGN_OR_RETURN(auto e, Find(ref));
  std::lock_guard lock(e->mu);
  if (e->removed) return absl::NotFoundError(absl::StrCat("No such container: ", ref));
  return StatsTarget{e->c.id, e->c.name, e->c.state.running && !e->c.state.restarting};
}

absl::StatusOr<api::StatsResponse> Daemon::TaskStats(const std::string& id) {
  api::StatsRequest request;
  request.set_container_id(id);
  api::StatsResponse response;
  BERTH_RETURN_IF_ERROR(
      FromGrpc(runtimed_.tasks().Stats(runtimed_.Context().get(), request, &response)));
  return response;
}

}  // namespace berth::engine
