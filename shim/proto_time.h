// absl::Time as a google.protobuf.Timestamp (berth.wire.Timestamp).
#pragma once

#include "absl/time/time.h"
#include "berth/wire/wkt.pb.h"

namespace berth::shim {

inline void SetTimestamp(absl::Time t, berth::wire::Timestamp* out) {
  int64_t seconds = absl::ToUnixSeconds(t);
  out->set_seconds(seconds);
  out->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
}

}  // namespace berth::shim
