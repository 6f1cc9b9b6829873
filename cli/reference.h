// Image references as docker's distribution/reference normalizes them:
// "busybox" -> docker.io/library/busybox, familiar names for display,
// the default tag "latest".
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace berth::cli {

struct ImageRef {
  std::string domain;  // docker.io, 127.0.0.1:5000, localhost
  std::string path;    // library/busybox, busybox
  std::string tag;     // "" when none
  std::string digest;  // "sha256:…" or ""

  // docker.io/library/busybox
  std::string Name() const { return domain + "/" + path; }
  // busybox, 127.0.0.1:5000/busybox
  std::string FamiliarName() const;
  // busybox:latest (FamiliarName + tag/digest)
  std::string FamiliarString() const;
  // docker.io/library/busybox:latest
  std::string String() const;
  bool NameOnly() const { return tag.empty() && digest.empty(); }
  // Adds ":latest" when there is neither tag nor digest.
  ImageRef WithDefaultTag() const;
};

// reference.ParseNormalizedNamed. Errors: "invalid reference format",
// "invalid reference format: repository name must be lowercase".
absl::StatusOr<ImageRef> ParseNormalizedNamed(std::string_view s);

// stringid.TruncateID: drops "sha256:" and keeps 12 characters.
std::string TruncateId(std::string_view id);

}  // namespace berth::cli
