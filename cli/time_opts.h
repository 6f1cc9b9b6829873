// docker's --since/--until values (api/types/time.GetTimestamp): a Go
// duration before the reference time ("10m", "1h30m"), an RFC 3339 date or
// date-time (with or without zone, fractional seconds; no zone is the local
// zone), or a unix timestamp ("1700000000", "1700000000.5") passed through.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace berth::cli {

// The value for the API query: "<seconds>" for a duration, "<s>.<9 digits ns>"
// for a date, the value itself for a unix timestamp. Errors as docker's:
// `failed to parse value as time or duration: "x"`.
absl::StatusOr<std::string> GetTimestamp(std::string_view value, absl::Time reference,
                                         absl::TimeZone local = absl::LocalTimeZone());

// "1700000000.123" -> seconds and nanoseconds (api/types/time.ParseTimestamps).
absl::StatusOr<std::pair<int64_t, int64_t>> ParseUnixTimestamp(std::string_view value);

}  // namespace berth::cli
