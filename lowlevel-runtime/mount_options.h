// The spec's mount options ("nosuid", "rbind", "mode=755"...) as mount(2) arguments.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::oci {

struct MountOptions {
  unsigned long flags = 0;                 // MS_* for mount(2)
  std::vector<unsigned long> propagation;  // MS_SHARED/MS_SLAVE/... (| MS_REC), applied after
  std::string data;                 // filesystem-specific, comma-joined ("mode=755,size=65536k")
  bool bind = false;                // bind or rbind
  bool recursive_readonly = false;  // "rro": MOUNT_ATTR_RDONLY with AT_RECURSIVE
};

// Parses options as runc does: known flags set or clear MS_* bits, propagation
// options are collected, everything else goes to the data string.
MountOptions ParseMountOptions(const std::vector<std::string>& options);

// Every option name ParseMountOptions knows (for `features`).
std::vector<std::string> KnownMountOptions();

// Maps a rootfsPropagation value ("rslave") to MS_* flags; "" is MS_REC|MS_SLAVE
// (runc's default, so host mounts propagate in but never out).
unsigned long RootfsPropagationFlags(const std::string& propagation);

}  // namespace berth::oci
