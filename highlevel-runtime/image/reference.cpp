#include "highlevel-runtime/image/reference.h"

#include <regex>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/digest.h"

namespace berth::runtimed {
namespace {

// The grammar of distribution/reference (regexp.go), written the same way.
// Every input is length-checked before it reaches a regex.
constexpr size_t kMaxNameLength = 255;
constexpr size_t kMaxTagLength = 128;

const std::regex& PathComponentRegex() {
  static const std::regex re("[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*");
  return re;
}

const std::regex& DomainRegex() {
  static const std::regex re(
      "(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
      "(?:\\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*"
      "|\\[[a-fA-F0-9:]+\\])"
      "(?::[0-9]+)?");
  return re;
}

const std::regex& TagRegex() {
  static const std::regex re("[\\w][\\w.-]{0,127}");
  return re;
}

bool FullMatch(absl::string_view text, const std::regex& re) {
  return std::regex_match(text.begin(), text.end(), re);
}

bool IsLowerHex(absl::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

absl::Status InvalidReference(absl::string_view input, absl::string_view detail) {
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid reference format", detail.empty() ? "" : ": ", detail, ": \"", input, "\""));
}

}  // namespace

std::string ImageReference::Repository() const { return absl::StrCat(domain, "/", path); }

std::string ImageReference::String() const {
  std::string out = Repository();
  if (!tag.empty()) absl::StrAppend(&out, ":", tag);
  if (!digest.empty()) absl::StrAppend(&out, "@", digest);
  return out;
}

absl::Status ValidateDigest(absl::string_view digest) { return ParseDigest(digest).status(); }

absl::StatusOr<ImageReference> ParseImageReference(absl::string_view text) {
  if (text.size() == 64 && IsLowerHex(text)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid repository name (", text, "), cannot specify 64-byte hexadecimal strings"));
  }

  ImageReference ref;
  absl::string_view name = text;
  if (size_t at = name.find('@'); at != absl::string_view::npos) {
    absl::string_view digest = name.substr(at + 1);
    name = name.substr(0, at);
    if (absl::Status st = ValidateDigest(digest); !st.ok()) {
      return InvalidReference(text, st.message());
    }
    ref.digest = std::string(digest);
  }

  size_t last_slash = name.rfind('/');
  size_t tag_colon = name.find(':', last_slash == absl::string_view::npos ? 0 : last_slash + 1);
  if (tag_colon != absl::string_view::npos) {
    absl::string_view tag = name.substr(tag_colon + 1);
    name = name.substr(0, tag_colon);
    if (tag.empty()) return InvalidReference(text, "empty tag");
    if (tag.size() > kMaxTagLength || !FullMatch(tag, TagRegex())) {
      return InvalidReference(
          text, absl::StrCat("invalid tag \"", tag, "\" (want [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})"));
    }
    ref.tag = std::string(tag);
  }

  if (name.empty()) {
    return InvalidReference(text, "repository name must have at least one component");
  }

  // docker's splitDockerDomain: the first component is a registry host when
  // it looks like one; otherwise the name lives on Docker Hub.
  absl::string_view remainder = name;
  ref.domain = std::string(kDockerHubDomain);
  if (size_t slash = name.find('/'); slash != absl::string_view::npos) {
    absl::string_view first = name.substr(0, slash);
    if (absl::StrContains(first, '.') || absl::StrContains(first, ':') || first == "localhost") {
      ref.domain = std::string(first);
      remainder = name.substr(slash + 1);
    }
  }
  if (ref.domain == "index.docker.io") ref.domain = std::string(kDockerHubDomain);
  if (ref.domain == kDockerHubDomain && !absl::StrContains(remainder, '/')) {
    ref.path = absl::StrCat("library/", remainder);
  } else {
    ref.path = std::string(remainder);
  }

  if (absl::AsciiStrToLower(ref.path) != ref.path) {
    return InvalidReference(text, "repository name must be lowercase");
  }
  if (ref.Repository().size() > kMaxNameLength) {
    return InvalidReference(text, absl::StrCat("repository name must not be more than ",
                                               kMaxNameLength, " characters"));
  }
  if (!FullMatch(ref.domain, DomainRegex())) {
    return InvalidReference(text, absl::StrCat("invalid registry host \"", ref.domain, "\""));
  }
  for (absl::string_view component : absl::StrSplit(ref.path, '/')) {
    if (!FullMatch(component, PathComponentRegex())) {
      return InvalidReference(
          text, component.empty()
                    ? std::string("empty path component")
                    : absl::StrCat("invalid path component \"", component,
                                   "\" (want lowercase letters and digits separated by "
                                   "'.', '_', '__' or dashes)"));
    }
  }

  if (ref.tag.empty() && ref.digest.empty()) ref.tag = std::string(kDefaultTag);
  return ref;
}

std::string RegistryHost(const ImageReference& ref) {
  if (ref.domain == kDockerHubDomain) return std::string(kDockerHubRegistryHost);
  return ref.domain;
}

}  // namespace berth::runtimed
