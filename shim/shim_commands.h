// The shim's three ways of running, as containerd's shim v2 protocol has them:
// `start` launches the long-lived shim and prints its address, `delete` cleans
// up after a shim that died, and without an action the process is the shim.
#pragma once

#include "shim/shim_flags.h"

namespace berth::shim {

int StartShim(const ShimFlags& flags, const char* argv0);
int DeleteAfterShim(const ShimFlags& flags);
// -info: containerd.types.RuntimeInfo on stdout.
int PrintRuntimeInfo(const ShimFlags& flags);
// Serves the task service on the listening socket at fd 3 until Shutdown.
int ServeShim(const ShimFlags& flags);

}  // namespace berth::shim
