#include "lowlevel-runtime/cli.h"

#include <seccomp.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "common/build_info.h"
#include "common/log.h"

namespace berth::oci {
namespace {

std::string LibseccompVersion() {
  const scmp_version* v = seccomp_version();
  return absl::StrCat(v->major, ".", v->minor, ".", v->micro);
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"berth-oci: an OCI runtime, runc-compatible", "berth-oci"};
  std::string root = "/run/berth-oci";
  std::string log_path;
  std::string log_format = "text";
  bool debug = false;
  bool systemd_cgroup = false;
  app.set_version_flag("-v,--version", [] {
    return VersionText("berth-oci", {{"spec", "1.1.0"}, {"libseccomp", LibseccompVersion()}});
  });
  app.add_option("--root", root, "root directory for storage of container state")
      ->capture_default_str();
  app.add_option("--log", log_path, "log file (default: stderr)");
  app.add_option("--log-format", log_format, "log format: text or json")->capture_default_str();
  app.add_flag("--debug", debug, "enable debug logging");
  app.add_flag("--systemd-cgroup", systemd_cgroup, "use systemd for cgroups (not yet: cgroupfs)");
  CLI11_PARSE(app, argc, argv);
  std::cout << app.help();
  return 0;
}

}  // namespace berth::oci
