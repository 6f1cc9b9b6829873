// Which OCI runtime binary the shim drives, and with which --root: from the
// runtime options containerd puts in CreateTaskRequest.options
// (containerd.runc.v1.Options: binary_name, root), as containerd's runc shim
// reads them. Defaults: berth-oci on PATH, root /run/containerd/berth; the
// namespace is appended to the root, as runc's shim does. Saved in the bundle
// so `delete` (run after the shim died) drives the same runtime.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "berth/wire/wkt.pb.h"

namespace berth::shim {

inline constexpr char kDefaultRuntimeBinary[] = "berth-oci";
inline constexpr char kDefaultRuntimeRoot[] = "/run/containerd/berth";

struct RuntimeOptions {
  std::string binary_name;
  std::string root;
  bool no_pivot_root = false;
  bool no_new_keyring = false;
};

// An empty Any gives the defaults. containerd.runc.v1.Options gives its
// binary_name and root; runtimeoptions.v1.Options a TOML file (config_path) or
// text (config_body) with BinaryName, Root, NoPivotRoot, NoNewKeyring, the
// keys of runc's options in containerd's CRI config. Other types are refused.
absl::StatusOr<RuntimeOptions> RuntimeOptionsFromAny(const berth::wire::Any& any);
// Fills in the defaults and appends "/NAMESPACE" to the root.
absl::StatusOr<RuntimeOptions> RuntimeOptionsFromToml(absl::string_view toml,
                                                      absl::string_view origin);
void ResolveRuntimeOptions(RuntimeOptions& options, const std::string& namespace_name);
absl::Status SaveRuntimeOptions(const std::string& bundle, const RuntimeOptions& options);
absl::StatusOr<RuntimeOptions> LoadRuntimeOptions(const std::string& bundle);

}  // namespace berth::shim
