// `containerd-shim-berth-v2 -info`: what containerd 2 asks a shim before using
// it. Reads the runtime options (an Any, possibly empty) from stdin and prints
// containerd.types.RuntimeInfo as protobuf: the shim's name and version, and
// the OCI runtime's `features` document when the runtime has that command.
#include <unistd.h>

#include <iostream>

#include "common/build_info.h"
#include "common/fd_util.h"
#include "common/log.h"
#include "containerd/types/introspection.pb.h"
#include "shim/oci_runtime.h"
#include "shim/runtime_options.h"
#include "shim/shim_commands.h"

namespace berth::shim {

int PrintRuntimeInfo(const ShimFlags& flags) {
  auto input = ReadAll(STDIN_FILENO);
  berth::wire::Any options_any;
  if (input.ok() && !input->empty() && !options_any.ParseFromString(*input)) {
    std::cerr << "containerd-shim-berth-v2: -info: stdin is not a protobuf Any\n";
    return 1;
  }
  auto options = RuntimeOptionsFromAny(options_any);
  if (!options.ok()) {
    std::cerr << "containerd-shim-berth-v2: -info: " << options.status().message() << "\n";
    return 1;
  }
  ResolveRuntimeOptions(*options, flags.namespace_name.empty() ? "default" : flags.namespace_name);

  containerd::types::RuntimeInfo info;
  info.set_name("io.containerd.berth.v2");
  info.mutable_version()->set_version(std::string(Version()));
  info.mutable_version()->set_revision(std::string(GitCommit()));
  if (!options_any.type_url().empty()) *info.mutable_options() = options_any;
  OciRuntime runtime(options->binary_name, options->root, "");
  auto features = runtime.Output("features", {"features"});
  if (features.ok()) {
    info.mutable_features()->set_type_url(
        "types.containerd.io/opencontainers/runtime-spec/1/features/Features");
    info.mutable_features()->set_value(*features);
  } else {
    LogDebug("-info: {}", features.status().message());
  }
  std::cout << info.SerializeAsString() << std::flush;
  return 0;
}

}  // namespace berth::shim
