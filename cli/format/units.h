// docker/go-units in C++: human sizes and durations as the docker CLI prints
// them, and the size strings its flags accept (-m 64m).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/byte_size.h"

namespace berth::cli {

// Go's fmt "%.*g": C's %g with Go's rules (no trailing zeros, e+NN exponent).
std::string GoFormatG(double value, int precision);

// Go's fmt "%v" of a float64: shortest digits, %e when the exponent is < -4 or >= 6.
std::string GoFormatFloat(double value);

// units.HumanSizeWithPrecision: decimal units, "4.26MB", "105MB", "0B".
std::string HumanSizeWithPrecision(double size, int precision);
// units.HumanSize: precision 4, "1.984MB".
std::string HumanSize(double size);
// units.BytesSize: binary units, "23.54GiB".
std::string BytesSize(double size);

// units.HumanDuration of a duration in seconds: "Less than a second", "3 minutes",
// "About an hour", "2 weeks", "56 years".
std::string HumanDuration(double seconds);

// units.RAMInBytes ("64m" -> 67108864) is berth::RAMInBytes, common/byte_size.h.

// "X ago" for a Unix timestamp, relative to now (or to `now` when given).
std::string TimeAgo(int64_t unix_seconds, int64_t now = -1);

}  // namespace berth::cli
