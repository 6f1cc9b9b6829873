// The OCI runtime binary (berth-oci, runc or crun) as the shim drives it: runc's
// command line, `--root ROOT --log BUNDLE/log.json --log-format json`. A failed
// command's error is the last error the runtime logged, as containerd's runc
// shim reports it ("OCI runtime create failed: ...").
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::shim {

class OciRuntime {
 public:
  // binary: a name looked up on PATH, or a path. root: the runtime's --root.
  // bundle: where the runtime runs and logs (BUNDLE/log.json); empty for
  // commands about no container (features), which then log to stderr.
  OciRuntime(std::string binary, std::string root, std::string bundle)
      : binary_(std::move(binary)), root_(std::move(root)), bundle_(std::move(bundle)) {}

  const std::string& binary() const { return binary_; }
  const std::string& root() const { return root_; }

  // Runs `RUNTIME [global flags] ARGS...`; `stdio` maps the child's 0/1/2 to our
  // fds (unmapped ones are /dev/null). `what` names the operation in errors.
  absl::Status Run(const std::string& what, const std::vector<std::string>& args,
                   const std::map<int, int>& stdio = {}) const;
  // As Run, returning stdout.
  absl::StatusOr<std::string> Output(const std::string& what,
                                     const std::vector<std::string>& args) const;

 private:
  std::vector<std::string> Argv(const std::vector<std::string>& args) const;
  std::string LastLoggedError() const;

  std::string binary_;
  std::string root_;
  std::string bundle_;
};

// Reads the pid a runtime wrote with --pid-file.
absl::StatusOr<pid_t> ReadPidFile(const std::string& path);

}  // namespace berth::shim
