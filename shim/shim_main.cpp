#include "shim/shim_main.h"

#include <iostream>
#include <string>
#include <vector>

#include "common/build_info.h"
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
  std::cerr << "containerd-shim-berth-v2: the task service is not built yet (see the shim issue)\n";
  return 1;
}

}  // namespace berth::shim
