// `spec [--rootless] [--bundle DIR]`: write a default config.json, as runc.
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/fd_util.h"
#include "common/json.h"
#include "common/oci/runtime_spec.h"
#include "common/status.h"
#include "lowlevel-runtime/commands.h"

namespace berth::oci {

absl::Status WriteSpec(const std::string& bundle, bool rootless) {
  std::string path = absl::StrCat(bundle, "/config.json");
  if (::access(path.c_str(), F_OK) == 0) {
    return absl::AlreadyExistsError("File config.json exists. Remove it first");
  }
  return WriteStringToFile(path, DumpJson(DefaultSpecJson(rootless), 2) + "\n", 0666 & ~0022);
}

}  // namespace berth::oci
