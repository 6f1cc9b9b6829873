// berth: the command line people type, docker's commands and flags.
#pragma once

namespace berth::cli {

// Parses argv and runs the command; returns the process exit code.
int Main(int argc, char** argv);

}  // namespace berth::cli
