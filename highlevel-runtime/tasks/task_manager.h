// Tasks as runtimed runs them: one shim per task, started with containerd's
// v2 `start` handshake in the task's bundle (STATE/tasks/<ns>/<id>: the
// container's config.json with root.path "rootfs", the rootfs mount point,
// the shim's log fifo and address), then driven over ttrpc with the shim task
// API. What a shim logs reaches runtimed's log (ShimLogForwarder). The shims
// outlive runtimed: on start, Reload() finds every bundle with an address,
// reconnects (and reopens its log fifo), and cleans up after shims that died
// (`shim delete`).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "berth/runtime/v1/containers.pb.h"
#include "berth/runtime/v1/tasks.pb.h"
#include "highlevel-runtime/snapshots/snapshotter.h"
#include "highlevel-runtime/tasks/shim_log.h"

namespace berth::runtimed {

// "io.containerd.berth.v2" -> "containerd-shim-berth-v2", containerd's rule.
absl::StatusOr<std::string> ShimBinaryName(const std::string& runtime_name);

class TaskManager {
 public:
  // state: runtimed's --state; address: runtimed's socket (the shims' -address).
  // events_address: the ttrpc socket shims forward their events to
  // (TTRPC_ADDRESS in their environment); empty: none.
  TaskManager(std::string state, std::string address, std::string events_address)
      : state_(std::move(state)),
        address_(std::move(address)),
        events_address_(std::move(events_address)) {}

  // Writes the bundle, starts the shim, and has it create the task.
  // AlreadyExists if the container has a task.
  absl::StatusOr<uint32_t> Create(const std::string& ns, const berth::runtime::v1::Container& c,
                                  const std::vector<Mount>& rootfs,
                                  const berth::runtime::v1::Stdio& stdio);
  // Calls containerd.task.v2.Task/<method> on the task's shim (a connection
  // per call, so a Wait blocks nobody else). NotFound without a task. With
  // `cancelled`, the call gives up (Cancelled, its connection closed) within
  // 100 ms of it returning true: for a gRPC call whose client went away.
  absl::StatusOr<std::string> Call(const std::string& ns, const std::string& id,
                                   const std::string& method, const std::string& request,
                                   const std::function<bool()>& cancelled = {});
  // After the init's Delete: shuts the shim down and removes the bundle.
  absl::Status Remove(const std::string& ns, const std::string& id);
  bool Has(const std::string& ns, const std::string& id);
  std::vector<std::string> Ids(const std::string& ns);
  // Reconnects to the shims of a previous runtimed.
  absl::Status Reload();

 private:
  struct Task {
    std::string bundle;
    std::string address;
  };
  std::string Bundle(const std::string& ns, const std::string& id) const;
  absl::StatusOr<std::string> StartShim(const std::string& ns, const std::string& id,
                                        const std::string& shim, const std::string& bundle);

  std::string state_, address_, events_address_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Task> tasks_;
  ShimLogForwarder shim_logs_;
};

}  // namespace berth::runtimed
