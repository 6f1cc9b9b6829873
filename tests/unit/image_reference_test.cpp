// Image references: docker's normalization, grammar and error messages.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "highlevel-runtime/image/reference.h"

using berth::runtimed::ImageReference;
using berth::runtimed::ParseImageReference;
using berth::runtimed::RegistryHost;
using berth::runtimed::ValidateDigest;

namespace {

const std::string kHex = "a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4";
const std::string kDigest = "sha256:" + kHex;

struct ValidCase {
  std::string input;
  std::string domain, path, tag, digest;
  std::string normalized;
};

struct InvalidCase {
  std::string input;
  std::string message;  // expected substring
};

}  // namespace

TEST_CASE("image references normalize the way docker does") {
  std::string tag128(128, 'x');
  auto c = GENERATE_COPY(values<ValidCase>({
      {"busybox", "docker.io", "library/busybox", "latest", "", "docker.io/library/busybox:latest"},
      {"busybox:1.36", "docker.io", "library/busybox", "1.36", "",
       "docker.io/library/busybox:1.36"},
      {"user/app", "docker.io", "user/app", "latest", "", "docker.io/user/app:latest"},
      {"docker.io/busybox", "docker.io", "library/busybox", "latest", "",
       "docker.io/library/busybox:latest"},
      {"docker.io/user/app:v1", "docker.io", "user/app", "v1", "", "docker.io/user/app:v1"},
      {"index.docker.io/library/busybox:musl", "docker.io", "library/busybox", "musl", "",
       "docker.io/library/busybox:musl"},
      {"127.0.0.1:5000/busybox", "127.0.0.1:5000", "busybox", "latest", "",
       "127.0.0.1:5000/busybox:latest"},
      {"127.0.0.1:5000/busybox:1.0", "127.0.0.1:5000", "busybox", "1.0", "",
       "127.0.0.1:5000/busybox:1.0"},
      {"localhost/app", "localhost", "app", "latest", "", "localhost/app:latest"},
      {"localhost:5000/a/b/c:t", "localhost:5000", "a/b/c", "t", "", "localhost:5000/a/b/c:t"},
      {"registry.example.com/team/app", "registry.example.com", "team/app", "latest", "",
       "registry.example.com/team/app:latest"},
      // Host names are case-insensitive: the domain may hold uppercase.
      {"Registry.Example.com/app", "Registry.Example.com", "app", "latest", "",
       "Registry.Example.com/app:latest"},
      {"[::1]:5000/app", "[::1]:5000", "app", "latest", "", "[::1]:5000/app:latest"},
      {"ghcr.io/org/app_name:v1.2-rc.3", "ghcr.io", "org/app_name", "v1.2-rc.3", "",
       "ghcr.io/org/app_name:v1.2-rc.3"},
      // Path component separators: '.', '_', '__', any run of '-'.
      {"user/my.app", "docker.io", "user/my.app", "latest", "", "docker.io/user/my.app:latest"},
      {"user/my__app", "docker.io", "user/my__app", "latest", "", "docker.io/user/my__app:latest"},
      {"user/my---app", "docker.io", "user/my---app", "latest", "",
       "docker.io/user/my---app:latest"},
      // A first component without '.' or ':' that is not "localhost" is a path.
      {"myregistry/app", "docker.io", "myregistry/app", "latest", "",
       "docker.io/myregistry/app:latest"},
      // No '/': "localhost:5000" is the Docker Hub image localhost, tag 5000.
      {"localhost:5000", "docker.io", "library/localhost", "5000", "",
       "docker.io/library/localhost:5000"},
      {"busybox@" + kDigest, "docker.io", "library/busybox", "", kDigest,
       "docker.io/library/busybox@" + kDigest},
      {"busybox:1.36@" + kDigest, "docker.io", "library/busybox", "1.36", kDigest,
       "docker.io/library/busybox:1.36@" + kDigest},
      {"127.0.0.1:5000/app@" + kDigest, "127.0.0.1:5000", "app", "", kDigest,
       "127.0.0.1:5000/app@" + kDigest},
      {"busybox:" + tag128, "docker.io", "library/busybox", tag128, "",
       "docker.io/library/busybox:" + tag128},
      {"busybox:_Upper.case-1", "docker.io", "library/busybox", "_Upper.case-1", "",
       "docker.io/library/busybox:_Upper.case-1"},
  }));
  CAPTURE(c.input);
  auto ref = ParseImageReference(c.input);
  REQUIRE(ref.ok());
  CHECK(ref->domain == c.domain);
  CHECK(ref->path == c.path);
  CHECK(ref->tag == c.tag);
  CHECK(ref->digest == c.digest);
  CHECK(ref->String() == c.normalized);
  CHECK(ref->Repository() == c.domain + "/" + c.path);
  // The normalized form parses back to the same reference.
  auto again = ParseImageReference(ref->String());
  REQUIRE(again.ok());
  CHECK(*again == *ref);
}

TEST_CASE("bad image references are refused in docker's words, naming the input") {
  std::string long_name = "user/" + std::string(251, 'a');  // docker.io/ + 256 > 255
  auto c = GENERATE_COPY(values<InvalidCase>({
      {"", "repository name must have at least one component"},
      {":tag", "repository name must have at least one component"},
      {"Busybox", "invalid reference format: repository name must be lowercase"},
      {"user/App", "invalid reference format: repository name must be lowercase"},
      {"User/app", "invalid reference format: repository name must be lowercase"},
      {"127.0.0.1:5000/BusyBox:1.0", "invalid reference format: repository name must be lowercase"},
      {"busybox:", "invalid reference format: empty tag"},
      {"127.0.0.1:5000/busybox:", "invalid reference format: empty tag"},
      {"busybox:-bad", "invalid reference format: invalid tag \"-bad\""},
      {"busybox:.bad", "invalid reference format: invalid tag \".bad\""},
      {"busybox:a/b", "invalid registry host \"busybox:a\""},  // ':' before '/' makes a host
      {"busybox:a:b", "invalid tag \"a:b\""},
      {"busybox:ta+g", "invalid tag \"ta+g\""},
      {"busybox:" + std::string(129, 'x'), "invalid tag"},
      {"busybox@", "invalid digest \"\""},
      {"busybox@sha256:abc",
       "invalid digest \"sha256:abc\": want 64 hex digits after \"sha256:\", got 3"},
      {"busybox@md5:" + kHex, "unsupported algorithm \"md5\""},
      {"busybox@sha512:" + kHex, "unsupported algorithm \"sha512\""},
      {"busybox@" + kHex, "want \"sha256:\" followed by 64 lowercase hex digits"},
      {"busybox@sha256:" + std::string(64, 'A'), "character \"A\" at offset 0"},
      {"busybox@sha256:" + std::string(63, 'a') + "g", "character \"g\" at offset 63"},
      {"busybox@" + kDigest + "@" + kDigest, "invalid digest"},
      {"user//app", "empty path component"},
      {"user/app/", "empty path component"},
      {"/app", "empty path component"},
      {"-app", "invalid path component \"-app\""},
      {"user/app-", "invalid path component \"app-\""},
      {"user/a..b", "invalid path component \"a..b\""},
      {"user/a___b", "invalid path component \"a___b\""},
      {"user/a b", "invalid path component \"a b\""},
      {"bad_host.com/app", "invalid registry host \"bad_host.com\""},
      {"-host.com/app", "invalid registry host \"-host.com\""},
      {"host.com:port/app", "invalid registry host \"host.com:port\""},
      {long_name, "repository name must not be more than 255 characters"},
      {kHex, "cannot specify 64-byte hexadecimal strings"},
  }));
  CAPTURE(c.input);
  auto ref = ParseImageReference(c.input);
  REQUIRE_FALSE(ref.ok());
  CHECK(ref.status().code() == absl::StatusCode::kInvalidArgument);
  std::string message(ref.status().message());
  CHECK_THAT(message, Catch::Contains(c.message));
  CHECK_THAT(message, Catch::Contains(c.input));
}

TEST_CASE("the lowercase error reads as docker's, then the input") {
  auto ref = ParseImageReference("Busybox");
  CHECK(ref.status().message() ==
        "invalid reference format: repository name must be lowercase: \"Busybox\"");
}

TEST_CASE("a name just at the 255-character limit is accepted") {
  // "docker.io/" (10) + "user/" (5) + 240 = 255.
  auto ref = ParseImageReference("user/" + std::string(240, 'a'));
  REQUIRE(ref.ok());
  CHECK(ref->Repository().size() == 255);
  CHECK_FALSE(ParseImageReference("user/" + std::string(241, 'a')).ok());
}

TEST_CASE("RegistryHost sends Docker Hub names to registry-1.docker.io") {
  struct Case {
    std::string input, host;
  };
  auto c = GENERATE(values<Case>({
      {"busybox", "registry-1.docker.io"},
      {"docker.io/user/app", "registry-1.docker.io"},
      {"index.docker.io/user/app", "registry-1.docker.io"},
      {"127.0.0.1:5000/busybox", "127.0.0.1:5000"},
      {"localhost/app", "localhost"},
      {"ghcr.io/org/app", "ghcr.io"},
  }));
  CAPTURE(c.input);
  auto ref = ParseImageReference(c.input);
  REQUIRE(ref.ok());
  CHECK(RegistryHost(*ref) == c.host);
}

TEST_CASE("ValidateDigest accepts only sha256 with 64 lowercase hex digits") {
  CHECK(ValidateDigest(kDigest).ok());
  struct Case {
    std::string digest, message;
  };
  auto c = GENERATE(values<Case>({
      {"", "want \"sha256:\" followed by 64 lowercase hex digits"},
      {kHex, "want \"sha256:\" followed by 64 lowercase hex digits"},
      {"sha256:", "want 64 hex digits after \"sha256:\", got 0"},
      {"sha256:" + kHex + "0", "want 64 hex digits after \"sha256:\", got 65"},
      {"sha256:" + kHex.substr(1), "want 64 hex digits after \"sha256:\", got 63"},
      {"SHA256:" + kHex, "unsupported algorithm \"SHA256\" (only sha256 is supported)"},
      {"sha512:" + kHex, "unsupported algorithm \"sha512\" (only sha256 is supported)"},
      {"sha256:" + std::string(64, 'F'),
       "character \"F\" at offset 0 of the hex part is not a lowercase hex digit"},
      {"sha256:" + std::string(63, '0') + "z",
       "character \"z\" at offset 63 of the hex part is not a lowercase hex digit"},
      {"sha256:" + std::string(63, '0') + ":",
       "character \":\" at offset 63 of the hex part is not a lowercase hex digit"},
  }));
  CAPTURE(c.digest);
  absl::Status st = ValidateDigest(c.digest);
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(st.message()) ==
        "invalid digest \"" + c.digest + "\": " + std::string(c.message));
}
