// `containerd-shim-berth-v2 ... start`: run with the bundle as working
// directory. Binds the shim's socket, starts the shim itself (this binary
// without the action, in a new session, the socket as fd 3), writes the
// address to BUNDLE/address for containerd to find again after a restart,
// prints it, and exits.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/fd_util.h"
#include "common/process.h"
#include "common/status.h"
#include "common/unix_socket.h"
#include "shim/shim_commands.h"

namespace berth::shim {
namespace {

inline constexpr char kSocketDir[] = "/run/berth-shim";

// A path per (containerd, namespace, container): short enough for sun_path.
std::string SocketPath(const ShimFlags& flags) {
  size_t h = std::hash<std::string>{}(
      absl::StrCat(flags.address, "\n", flags.namespace_name, "\n", flags.id));
  return absl::StrFormat("%s/%016x.sock", kSocketDir, h);
}

absl::StatusOr<UniqueFd> Listen(const std::string& path) {
  if (::mkdir(kSocketDir, 0711) != 0 && errno != EEXIST) {
    return LastErrnoError(absl::StrCat("mkdir ", kSocketDir));
  }
  // A dead shim's socket at the same path is replaced.
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, ListenUnix(path, 64));
  if (::chmod(path.c_str(), 0600) != 0) return LastErrnoError(absl::StrCat("chmod ", path));
  return fd;
}

absl::Status Start(const ShimFlags& flags, const char* argv0) {
  std::string path = SocketPath(flags);
  BERTH_ASSIGN_OR_RETURN(UniqueFd listener, Listen(path));
  BERTH_ASSIGN_OR_RETURN(UniqueFd null, OpenFile("/dev/null", O_RDWR | O_CLOEXEC));
  SpawnOptions options;
  options.path = "/proc/self/exe";
  options.argv = {argv0,         "-namespace",      flags.namespace_name,
                  "-id",         flags.id,          "-address",
                  flags.address, "-publish-binary", flags.publish_binary};
  if (flags.debug) options.argv.push_back("-debug");
  options.fds = {{0, null.Get()}, {1, null.Get()}, {2, null.Get()}, {3, listener.Get()}};
  options.new_session = true;
  auto shim = Spawn(options);
  if (!shim.ok()) {
    ::unlink(path.c_str());
    return shim.status();
  }
  std::string address = absl::StrCat("unix://", path);
  // Without the address file nobody can find the shim again: it goes
  // (ChildProcess kills and reaps it) rather than run orphaned.
  if (absl::Status st = WriteFileAtomic("address", address, 0644, Durability::kNoFsync); !st.ok()) {
    ::unlink(path.c_str());
    return st;
  }
  shim->Detach();
  std::cout << address << std::flush;
  return absl::OkStatus();
}

}  // namespace

int StartShim(const ShimFlags& flags, const char* argv0) {
  absl::Status st = Start(flags, argv0);
  if (!st.ok()) {
    std::cerr << "containerd-shim-berth-v2: start: " << st.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace berth::shim
