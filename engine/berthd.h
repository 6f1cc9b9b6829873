// berthd: the Docker Engine API daemon.
#pragma once

namespace berth::engine {

// Parses dockerd-style flags and runs the daemon; returns the exit code.
int Main(int argc, char** argv);

}  // namespace berth::engine
