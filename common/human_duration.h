// Docker's human-readable durations (docker/go-units HumanDuration): "Less
// than a second", "3 seconds", "About a minute", "5 hours", "2 weeks"...
#pragma once

#include <string>

#include "absl/time/time.h"

namespace berth {

std::string HumanDuration(absl::Duration d);

}  // namespace berth
