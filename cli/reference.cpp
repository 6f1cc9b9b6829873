#include "cli/reference.h"

#include <cctype>
#include <regex>

namespace berth::cli {

std::string ImageRef::FamiliarName() const {
  if (domain == "docker.io") {
    if (path.rfind("library/", 0) == 0 && path.find('/', 8) == std::string::npos) {
      return path.substr(8);
    }
    return path;
  }
  return domain + "/" + path;
}

std::string ImageRef::FamiliarString() const {
  std::string s = FamiliarName();
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

std::string ImageRef::String() const {
  std::string s = Name();
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

ImageRef ImageRef::WithDefaultTag() const {
  ImageRef r = *this;
  if (r.NameOnly()) r.tag = "latest";
  return r;
}

absl::StatusOr<ImageRef> ParseNormalizedNamed(std::string_view input) {
  std::string s(input);
  static const std::regex kTag(R"([\w][\w.-]{0,127})");
  static const std::regex kDigest(
      R"([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})");
  static const std::regex kComponent(R"([a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*)");
  static const std::regex kDomain(
      R"((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?)");
  const absl::Status invalid = absl::InvalidArgumentError("invalid reference format");
  if (s.empty()) return invalid;
  ImageRef ref;
  if (auto at = s.find('@'); at != std::string::npos) {
    ref.digest = s.substr(at + 1);
    s = s.substr(0, at);
    if (!std::regex_match(ref.digest, kDigest)) return invalid;
  }
  auto slash = s.rfind('/');
  auto colon = s.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    ref.tag = s.substr(colon + 1);
    s = s.substr(0, colon);
    if (!std::regex_match(ref.tag, kTag)) return invalid;
  }
  auto first_slash = s.find('/');
  std::string first = first_slash == std::string::npos ? s : s.substr(0, first_slash);
  if (first_slash != std::string::npos &&
      (first.find('.') != std::string::npos || first.find(':') != std::string::npos ||
       first == "localhost" || first != [&] {
         std::string lower = first;
         for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
         return lower;
       }())) {
    ref.domain = first;
    ref.path = s.substr(first_slash + 1);
    if (!std::regex_match(ref.domain, kDomain)) return invalid;
  } else {
    ref.domain = "docker.io";
    ref.path = s;
  }
  if (ref.domain == "index.docker.io") ref.domain = "docker.io";
  if (ref.domain == "docker.io" && ref.path.find('/') == std::string::npos) {
    ref.path = "library/" + ref.path;
  }
  for (char c : ref.path) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(
          "invalid reference format: repository name must be lowercase");
    }
  }
  size_t start = 0;
  while (true) {
    size_t end = ref.path.find('/', start);
    std::string comp =
        ref.path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!std::regex_match(comp, kComponent)) return invalid;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (ref.Name().size() > 255) {
    return absl::InvalidArgumentError(
        "invalid reference format: repository name must not be more than 255 characters");
  }
  return ref;
}

std::string TruncateId(std::string_view id) {
  if (auto colon = id.find(':'); colon != std::string_view::npos) id = id.substr(colon + 1);
  if (id.size() > 12) id = id.substr(0, 12);
  return std::string(id);
}

}  // namespace berth::cli
