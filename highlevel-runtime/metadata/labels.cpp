#include "highlevel-runtime/metadata/labels.h"

#include "absl/strings/str_cat.h"

namespace berth::runtimed {

absl::Status ValidateLabels(const Labels& labels, const std::string& what) {
  for (const auto& [key, value] : labels) {
    if (key.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": a label key is empty"));
    }
    if (key.size() + value.size() > kMaxLabelSize) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": label \"", key.substr(0, 64), "\" is ", key.size() + value.size(),
                       " bytes, key and value; at most ", kMaxLabelSize, " are allowed"));
    }
  }
  return absl::OkStatus();
}

std::string LabelsToJson(const Labels& labels) {
  Json j = Json::object();
  for (const auto& [k, v] : labels) j[k] = v;
  return j.dump();
}

Labels LabelsFromJson(const std::string& json) {
  Labels labels;
  auto j = ParseJson(json, "labels");
  if (!j.ok() || !j->is_object()) return labels;
  for (auto& [k, v] : j->items()) {
    if (v.is_string()) labels[k] = v.get<std::string>();
  }
  return labels;
}

}  // namespace berth::runtimed
