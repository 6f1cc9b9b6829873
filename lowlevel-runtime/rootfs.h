// Building the container's filesystem view in its mount namespace: propagation,
// the spec's mounts in order, /dev, pivot_root, then masked and read-only paths.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "common/oci/runtime_spec.h"

namespace berth::oci {

struct RootfsOptions {
  std::string rootfs;       // absolute host path of the rootfs
  bool no_pivot = false;    // --no-pivot: MS_MOVE + chroot instead of pivot_root
  bool in_user_ns = false;  // devices are bind-mounted, not created
  bool cgroup_ns = false;   // the init is in a fresh cgroup namespace
};

// Everything before the root changes: mounts under the rootfs and /dev.
absl::Status PrepareRootfs(const Spec& spec, const RootfsOptions& options);
// pivot_root (or move + chroot) into the rootfs; cwd becomes "/".
absl::Status EnterRootfs(const RootfsOptions& options);
// Inside the new root: sysctls, read-only and masked paths, read-only root.
absl::Status FinalizeRootfs(const Spec& spec);
// Without a mount namespace: only chroot into the rootfs.
absl::Status ChrootOnly(const RootfsOptions& options);

}  // namespace berth::oci
