#include "engine/berthd.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "common/build_info.h"

namespace berth::engine {

int Main(int argc, char** argv) {
  CLI::App app{"berthd: the berth Docker Engine API daemon", "berthd"};
  app.set_version_flag(
      "-v,--version", [] { return VersionText("berthd"); }, "Print version information and quit");
  CLI11_PARSE(app, argc, argv);
  std::cerr << "berthd: the Engine API server is not built yet (see the berthd issue)\n";
  return 1;
}

}  // namespace berth::engine
