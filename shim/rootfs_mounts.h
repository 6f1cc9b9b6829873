// The container's root filesystem as containerd hands it to a shim: the
// snapshot's mounts (overlay, or a bind of a directory), mounted by the shim on
// BUNDLE/rootfs before the runtime's create, unmounted after delete.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace berth::shim {

struct RootfsMount {
  std::string type, source;
  std::vector<std::string> options;
};

// Mounts each in turn on target (later ones stack on earlier ones).
absl::Status MountRootfs(const std::vector<RootfsMount>& mounts, const std::string& target);
// Unmounts everything on target (lazily if busy). Not mounted is fine.
absl::Status UnmountRootfs(const std::string& target);

}  // namespace berth::shim
