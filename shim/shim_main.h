// containerd-shim-berth-v2: the per-container shim.
#pragma once

namespace berth::shim {

int Main(int argc, char** argv);

}  // namespace berth::shim
