// Docker's sizes (github.com/docker/go-units): "64m", "1.5GiB", "100" (bytes).
// FromHumanSize counts k as 1000 (the json-file log driver's max-size),
// RAMInBytes as 1024 (--memory, --shm-size).
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth {

absl::StatusOr<int64_t> FromHumanSize(absl::string_view size);
absl::StatusOr<int64_t> RAMInBytes(absl::string_view size);

}  // namespace berth
