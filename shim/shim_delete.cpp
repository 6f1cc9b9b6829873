// `containerd-shim-berth-v2 ... delete`: containerd's cleanup when a shim died
// with its container. Deletes the container with the runtime the shim had
// used (BUNDLE/options.json), unmounts the rootfs, and prints the
// DeleteResponse (SIGKILL's 137, now) as protobuf on stdout.
#include <unistd.h>

#include <iostream>

#include "absl/time/clock.h"
#include "common/log.h"
#include "containerd/task/v2/shim.pb.h"
#include "shim/oci_runtime.h"
#include "shim/proto_time.h"
#include "shim/rootfs_mounts.h"
#include "shim/runtime_options.h"
#include "shim/shim_commands.h"

namespace berth::shim {

int DeleteAfterShim(const ShimFlags& flags) {
  std::string bundle = flags.bundle;
  if (bundle.empty()) {
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd) == nullptr) return 1;
    bundle = cwd;
  }
  auto options = LoadRuntimeOptions(bundle);
  if (options.ok()) {
    OciRuntime runtime(options->binary_name, options->root, bundle);
    absl::Status deleted = runtime.Run("delete", {"delete", "--force", flags.id});
    if (!deleted.ok()) LogWarn("delete {}: {}", flags.id, deleted.message());
  }
  absl::Status unmounted = UnmountRootfs(bundle + "/rootfs");
  if (!unmounted.ok()) LogWarn("{}", unmounted.message());

  containerd::task::v2::DeleteResponse response;
  response.set_exit_status(128 + 9);
  SetTimestamp(absl::Now(), response.mutable_exited_at());
  std::cout << response.SerializeAsString() << std::flush;
  return 0;
}

}  // namespace berth::shim
