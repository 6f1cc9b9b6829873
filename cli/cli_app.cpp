#include "cli/cli_app.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "common/build_info.h"

namespace berth::cli {

int Main(int argc, char** argv) {
  CLI::App app{"berth: a self-sufficient runtime for containers", "berth"};
  app.set_version_flag(
      "-v,--version", [] { return VersionText("berth"); }, "Print version information and quit");
  app.require_subcommand(0);
  CLI11_PARSE(app, argc, argv);
  std::cout << app.help();
  return 0;
}

}  // namespace berth::cli
