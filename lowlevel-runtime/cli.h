// berth-oci's command line: runc's global flags and commands, flag for flag.
#pragma once

namespace berth::oci {

int Main(int argc, char** argv);

}  // namespace berth::oci
