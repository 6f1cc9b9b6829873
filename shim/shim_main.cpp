#include "shim/shim_main.h"

#include <iostream>
#include <string>
#include <vector>

#include "common/build_info.h"
#include "shim/shim_commands.h"
#include "shim/shim_flags.h"

namespace berth::shim {

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto flags = ParseShimFlags(args);
  if (!flags.ok()) {
    std::cerr << "containerd-shim-berth-v2: " << flags.status().message() << "\n";
    return 2;
  }
  if (flags->version) {
    std::cout << VersionText("containerd-shim-berth-v2") << "\n";
    return 0;
  }
  if (flags->info) return PrintRuntimeInfo(*flags);
  if (flags->action == "start") return StartShim(*flags, argv[0]);
  if (flags->action == "delete") return DeleteAfterShim(*flags);
  if (flags->id.empty() || flags->namespace_name.empty()) {
    std::cerr << "containerd-shim-berth-v2: -namespace and -id are required\n";
    return 2;
  }
  return ServeShim(*flags);
}

}  // namespace berth::shim
