// The state directory of one container: <root>/<id>/state.json plus the exec
// fifo that holds the init process between `create` and `start`.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json.h"
#include "lowlevel-runtime/cgroups/cgroup.h"

namespace berth::oci {

enum class Status { kCreating, kCreated, kRunning, kPaused, kStopped };
absl::string_view StatusName(Status status);

struct ContainerState {
  std::string id;
  pid_t pid = 0;
  uint64_t pid_start_time = 0;  // field 22 of /proc/<pid>/stat: detects pid reuse
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339, nanoseconds
  std::string owner;
  std::map<std::string, std::string> annotations;
  std::string cgroups_path;  // as given in the spec, to reopen the cgroup
  // A rootless container whose cgroup could not be created (not writable, not
  // delegated): it runs without one.
  bool without_cgroup = false;
  bool creating = true;  // until the init reported that setup is done
  Json config;           // the spec the container was created from
};

// Where container state lives unless --root says otherwise: /run/berth-oci for
// root; for anyone else $XDG_RUNTIME_DIR/berth-oci, as runc picks
// $XDG_RUNTIME_DIR/runc for a rootless user.
std::string DefaultStateRoot();

std::string StateDir(const std::string& root, const std::string& id);
// Compiled seccomp filters shared by the containers of one root
// (SeccompFilter's cache); a container id cannot start with '.'.
std::string SeccompCacheDir(const std::string& root);
std::string ExecFifoPath(const std::string& root, const std::string& id);

absl::Status SaveState(const std::string& root, const ContainerState& state);
// NotFound "container does not exist" when there is no such id.
absl::StatusOr<ContainerState> LoadState(const std::string& root, const std::string& id);
// Ids of every container under root, sorted.
absl::StatusOr<std::vector<std::string>> ListContainerIds(const std::string& root);

// The status right now: looks at the init process, the fifo and the freezer.
Status CurrentStatus(const std::string& root, const ContainerState& state);
// The container's cgroup as create left it: its own, or a NoCgroup for a
// rootless container that runs without one.
absl::StatusOr<std::unique_ptr<Cgroup>> OpenContainerCgroup(const ContainerState& state);
// True while the init process recorded in state exists and is not a zombie.
bool InitAlive(const ContainerState& state);

// runc's `state` JSON: ociVersion, id, pid, status, bundle, rootfs, created, owner, annotations.
Json StateJson(const ContainerState& state, Status status);

// Start time (clock ticks since boot) of pid, from /proc/<pid>/stat; 0 when gone.
uint64_t ProcessStartTime(pid_t pid);

// RFC 3339 with nanoseconds in UTC, as Go's time.RFC3339Nano writes.
std::string NowRfc3339Nano();

}  // namespace berth::oci
