// containerd's identifiers (its pkg/identifiers): what namespaces and lease ids
// must look like, so that names stored by berth-runtimed work with containerd's
// tools and the other way round.
#pragma once

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace berth::runtimed {

// The longest identifier accepted (bytes).
inline constexpr size_t kMaxIdentifierLength = 76;

// An identifier is 1 to 76 letters and digits, with single '.', '_' or '-'
// between them (^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$). `what` names it in the
// InvalidArgument error: `invalid WHAT "ID": want ...`, e.g. "lease id",
// "namespace".
absl::Status ValidateIdentifier(absl::string_view id, absl::string_view what);

}  // namespace berth::runtimed
