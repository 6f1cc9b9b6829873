// Image references ("busybox", "127.0.0.1:5000/app:1.0", "alpine@sha256:…")
// parsed and normalized the way docker does (distribution/reference's
// ParseNormalizedNamed + TagNameOnly), so a name means the same image here as
// it does to the docker CLI.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth::runtimed {

inline constexpr absl::string_view kDockerHubDomain = "docker.io";
inline constexpr absl::string_view kDockerHubRegistryHost = "registry-1.docker.io";
inline constexpr absl::string_view kDefaultTag = "latest";

struct ImageReference {
  std::string domain;  // "docker.io", "127.0.0.1:5000", "localhost"
  std::string path;    // "library/busybox"
  std::string tag;     // "latest"; empty for a digest-only reference
  std::string digest;  // "sha256:<64 hex>" or empty

  // The normalized form: "docker.io/library/busybox:latest",
  // "docker.io/library/alpine@sha256:…", "host/app:1.0@sha256:…".
  std::string String() const;
  // domain/path: "docker.io/library/busybox".
  std::string Repository() const;

  bool operator==(const ImageReference&) const = default;
};

// Parses and normalizes a reference:
//   "busybox"                 -> docker.io/library/busybox:latest
//   "user/app"                -> docker.io/user/app:latest
//   "index.docker.io/x"       -> docker.io/library/x:latest
//   "127.0.0.1:5000/busybox"  -> domain 127.0.0.1:5000 (a first component holding '.'
//                                or ':', or equal to "localhost", is a domain)
//   "name@sha256:<hex>"       -> digest reference, no tag added
//   "name:tag@sha256:<hex>"   -> both kept
// Errors are InvalidArgument in docker's words followed by the input, e.g.
// `invalid reference format: repository name must be lowercase: "Busybox"`.
absl::StatusOr<ImageReference> ParseImageReference(absl::string_view text);

// The host to contact for a reference's domain: "registry-1.docker.io" for
// docker.io, the domain itself (with its port) otherwise.
std::string RegistryHost(const ImageReference& ref);

// "sha256:" followed by 64 lowercase hex digits, the only digest form
// accepted (in references, descriptors and diff_ids): common/digest's
// ParseDigest, which says what is wrong and quotes the digest.
absl::Status ValidateDigest(absl::string_view digest);

}  // namespace berth::runtimed
