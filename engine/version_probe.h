// The versions of the layers below berthd, for /version's Components (as
// dockerd lists containerd, runc and docker-init): berth-runtimed over its
// Version service, the shim and the OCI runtime from their --version output.
#pragma once

#include <vector>

#include "engine/daemon/daemon.h"
#include "engine/routes/routes.h"
#include "engine/runtimed_client.h"

namespace berth::engine {

// A component that cannot be asked is left out.
std::vector<ComponentVersion> ProbeComponents(RuntimedClient& runtimed,
                                              const DaemonOptions& options);

// "<binary> version 0.1.0\ncommit: 1a2b3c\n…" (VersionText) or "runc version
// 1.1.5\ncommit: …" into name, version and commit.
ComponentVersion ParseVersionText(const std::string& name, const std::string& text);

}  // namespace berth::engine
