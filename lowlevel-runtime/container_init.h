// The container's init process, from clone() to execve() of the user's program:
// the side of `create` that runs inside the new namespaces.
#pragma once

#include <optional>
#include <string>

#include "common/oci/runtime_spec.h"
#include "lowlevel-runtime/namespaces.h"
#include "lowlevel-runtime/rootfs.h"
#include "lowlevel-runtime/security/seccomp.h"
#include "lowlevel-runtime/sync_channel.h"

namespace berth::oci {

struct InitContext {
  const Spec* spec = nullptr;
  std::string id;
  std::string bundle;
  NamespacePlan* namespaces = nullptr;
  RootfsOptions rootfs;
  SyncChannel* sync = nullptr;  // the init's end
  int exec_fifo_fd = -1;        // read end: `start` writes one byte into it
  std::optional<SeccompFilter>* seccomp = nullptr;
  std::string console_socket;
  int preserve_fds = 0;
  bool no_new_keyring = false;
  bool hooks_handshake = false;  // the parent runs prestart/createRuntime hooks mid-setup
  bool new_cgroup_ns = false;
  pid_t host_pid = 0;  // our pid in the host's pid namespace (from kGo)
};

// Never returns: execs the process or reports the error over ctx.sync and exits.
[[noreturn]] void RunContainerInit(InitContext& ctx);

}  // namespace berth::oci
