// Labels of metadata records (leases, content), as containerd checks and
// stores them: string to string, kept in SQLite as a JSON object.
#pragma once

#include <map>
#include <string>

#include "absl/status/status.h"
#include "common/json.h"

namespace berth::runtimed {

using Labels = std::map<std::string, std::string>;

// containerd's limit on a label: key and value together.
inline constexpr size_t kMaxLabelSize = 4096;

// InvalidArgument for an empty key, or a key and value over kMaxLabelSize
// bytes; `what` names the owner in the message ("lease \"x\"").
absl::Status ValidateLabels(const Labels& labels, const std::string& what);

std::string LabelsToJson(const Labels& labels);
// A stored JSON object back to labels; anything else is no labels.
Labels LabelsFromJson(const std::string& json);

template <typename Map>
Labels ToLabels(const Map& map) {
  return Labels(map.begin(), map.end());
}

}  // namespace berth::runtimed
