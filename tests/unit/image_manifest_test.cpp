// Manifests, indexes, media types and platform selection.
#include <sys/utsname.h>

#include <catch2/catch.hpp>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "highlevel-runtime/image/manifest.h"

namespace rt = berth::runtimed;
using berth::Json;

namespace {

std::string Digest(char c) { return "sha256:" + std::string(64, c); }

// A Docker schema 2 manifest as docker-registry serves it.
Json DockerManifest() {
  return Json{
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
      {"config",
       {{"mediaType", "application/vnd.docker.container.image.v1+json"},
        {"size", 1457},
        {"digest", Digest('c')}}},
      {"layers", Json::array({{{"mediaType", "application/vnd.docker.image.rootfs.diff.tar.gzip"},
                               {"size", 2152262},
                               {"digest", Digest('1')}},
                              {{"mediaType", "application/vnd.docker.image.rootfs.diff.tar.gzip"},
                               {"size", 32},
                               {"digest", Digest('2')}}})},
  };
}

Json Entry(const std::string& media_type, char digest, Json platform) {
  Json entry = {{"mediaType", media_type}, {"size", 528}, {"digest", Digest(digest)}};
  if (!platform.is_null()) entry["platform"] = std::move(platform);
  return entry;
}

Json DockerList() {
  const std::string m = "application/vnd.docker.distribution.manifest.v2+json";
  return Json{
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.docker.distribution.manifest.list.v2+json"},
      {"manifests",
       Json::array(
           {Entry(m, 'a', {{"os", "linux"}, {"architecture", "amd64"}}),
            Entry(m, 'b', {{"os", "linux"}, {"architecture", "arm64"}, {"variant", "v8"}})})},
  };
}

struct BadDoc {
  std::string name;
  std::function<void(Json&)> mutate;
  std::string message;  // expected substring
};

std::string Message(const absl::Status& status) { return std::string(status.message()); }

}  // namespace

TEST_CASE("a Docker schema 2 manifest parses") {
  auto m = rt::ParseManifest(DockerManifest().dump());
  REQUIRE(m.ok());
  CHECK(m->media_type == rt::kDockerManifestMediaType);
  CHECK(m->config.media_type == rt::kDockerConfigMediaType);
  CHECK(m->config.digest == Digest('c'));
  CHECK(m->config.size == 1457);
  CHECK_FALSE(m->config.platform.has_value());
  REQUIRE(m->layers.size() == 2);
  CHECK(m->layers[0].digest == Digest('1'));
  CHECK(m->layers[0].size == 2152262);
  CHECK(m->layers[1].digest == Digest('2'));
  CHECK(*rt::LayerCompressionOf(m->layers[0].media_type) == rt::LayerCompression::kGzip);
  CHECK(m->annotations.empty());
}

TEST_CASE("an OCI manifest parses, with or without its optional mediaType") {
  Json doc = {
      {"schemaVersion", 2},
      {"config",
       {{"mediaType", "application/vnd.oci.image.config.v1+json"},
        {"size", 7023},
        {"digest", Digest('c')}}},
      {"layers", Json::array({{{"mediaType", "application/vnd.oci.image.layer.v1.tar+zstd"},
                               {"size", 5000000000LL},  // sizes are 64-bit
                               {"digest", Digest('1')},
                               {"annotations", {{"org.opencontainers.image.title", "base"}}}},
                              {{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                               {"size", 0},
                               {"digest", Digest('2')}}})},
      {"annotations", {{"org.opencontainers.image.created", "2024-01-01T00:00:00Z"}}},
  };
  auto m = rt::ParseManifest(doc.dump());
  REQUIRE(m.ok());
  CHECK(m->media_type == rt::kOciManifestMediaType);
  CHECK(m->config.media_type == rt::kOciConfigMediaType);
  REQUIRE(m->layers.size() == 2);
  CHECK(m->layers[0].size == 5000000000LL);
  CHECK(m->layers[0].annotations.at("org.opencontainers.image.title") == "base");
  CHECK(*rt::LayerCompressionOf(m->layers[0].media_type) == rt::LayerCompression::kZstd);
  CHECK(*rt::LayerCompressionOf(m->layers[1].media_type) == rt::LayerCompression::kNone);
  CHECK(m->annotations.at("org.opencontainers.image.created") == "2024-01-01T00:00:00Z");

  doc["mediaType"] = "application/vnd.oci.image.manifest.v1+json";
  auto explicit_type = rt::ParseManifest(doc.dump());
  REQUIRE(explicit_type.ok());
  CHECK(explicit_type->media_type == rt::kOciManifestMediaType);

  // A FROM scratch image without layers is still an image.
  doc["layers"] = Json::array();
  auto empty = rt::ParseManifest(doc.dump());
  REQUIRE(empty.ok());
  CHECK(empty->layers.empty());
}

TEST_CASE("bad manifests are refused naming the field") {
  // Each row breaks one thing in an otherwise valid manifest.
  REQUIRE(rt::ParseManifest(DockerManifest().dump()).ok());
  auto c = GENERATE(values<BadDoc>({
      {"schema 1", [](Json& d) { d["schemaVersion"] = 1; },
       "manifest: schemaVersion: unsupported version 1 (Docker schema 1"},
      {"schema 3", [](Json& d) { d["schemaVersion"] = 3; },
       "manifest: schemaVersion: unsupported version 3 (only version 2 is supported)"},
      {"schemaVersion missing", [](Json& d) { d.erase("schemaVersion"); },
       "manifest: schemaVersion: missing"},
      {"schemaVersion string", [](Json& d) { d["schemaVersion"] = "2"; },
       "manifest: schemaVersion: unexpected string value \"2\""},
      {"index media type",
       [](Json& d) { d["mediaType"] = "application/vnd.oci.image.index.v1+json"; },
       "manifest: mediaType: unexpected \"application/vnd.oci.image.index.v1+json\""},
      {"unknown media type", [](Json& d) { d["mediaType"] = "text/plain"; },
       "manifest: mediaType: unexpected \"text/plain\""},
      {"mediaType number", [](Json& d) { d["mediaType"] = 5; },
       "manifest: mediaType: unexpected number value 5"},
      {"config missing", [](Json& d) { d.erase("config"); }, "manifest: config: missing"},
      {"config not object", [](Json& d) { d["config"] = "x"; },
       "manifest: config: expected an object, got string"},
      {"config bad digest", [](Json& d) { d["config"]["digest"] = "sha256:1234"; },
       "manifest: config.digest: invalid digest \"sha256:1234\": want 64 hex digits after "
       "\"sha256:\", got 4"},
      {"config digest missing", [](Json& d) { d["config"].erase("digest"); },
       "manifest: config.digest: missing"},
      {"config negative size", [](Json& d) { d["config"]["size"] = -1; },
       "manifest: config.size: expected a non-negative integer, got number -1"},
      {"config fractional size", [](Json& d) { d["config"]["size"] = 1.5; },
       "manifest: config.size: expected a non-negative integer, got number 1.5"},
      {"config size string", [](Json& d) { d["config"]["size"] = "10"; },
       "manifest: config.size: expected a non-negative integer, got string \"10\""},
      {"config size missing", [](Json& d) { d["config"].erase("size"); },
       "manifest: config.size: missing"},
      {"config not an image",
       [](Json& d) { d["config"]["mediaType"] = "application/vnd.cncf.helm.config.v1+json"; },
       "manifest: config.mediaType: unsupported \"application/vnd.cncf.helm.config.v1+json\""},
      {"layers missing", [](Json& d) { d.erase("layers"); }, "manifest: layers: missing"},
      {"layers object", [](Json& d) { d["layers"] = Json::object(); },
       "manifest: layers: expected an array, got object"},
      {"layer not object", [](Json& d) { d["layers"][1] = 7; },
       "manifest: layers[1]: expected an object, got number"},
      {"unknown layer type",
       [](Json& d) {
         d["layers"][1]["mediaType"] = "application/vnd.oci.image.layer.v1.tar+bzip2";
       },
       "manifest: layers[1].mediaType: unknown layer media type "
       "\"application/vnd.oci.image.layer.v1.tar+bzip2\""},
      {"layer mediaType missing", [](Json& d) { d["layers"][0].erase("mediaType"); },
       "manifest: layers[0].mediaType: missing"},
      {"layer bad digest", [](Json& d) { d["layers"][0]["digest"] = "md5:abc"; },
       "manifest: layers[0].digest: invalid digest \"md5:abc\": unsupported algorithm"},
      {"layer uppercase digest",
       [](Json& d) { d["layers"][1]["digest"] = "sha256:" + std::string(64, 'A'); },
       "manifest: layers[1].digest: invalid digest \"sha256:" + std::string(64, 'A') +
           "\": character \"A\" at offset 0 of the hex part is not a lowercase hex digit"},
      {"annotation not a string",
       [](Json& d) {
         d["annotations"] = {{"k", 1}};
       },
       "manifest: annotations: unexpected object value {\"k\":1}"},
  }));
  CAPTURE(c.name);
  Json doc = DockerManifest();
  c.mutate(doc);
  auto m = rt::ParseManifest(doc.dump());
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(m.status()), Catch::StartsWith(c.message));
}

TEST_CASE("manifest text that is not a JSON object is refused") {
  struct Case {
    std::string text, message;
  };
  auto c = GENERATE(values<Case>({
      {"", "manifest: invalid JSON"},
      {"{not json", "manifest: invalid JSON"},
      {"{\"schemaVersion\": 2,", "manifest: invalid JSON"},
      {"[]", "manifest: expected a JSON object, got array"},
      {"2", "manifest: expected a JSON object, got number"},
  }));
  CAPTURE(c.text);
  auto m = rt::ParseManifest(c.text);
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(m.status()), Catch::StartsWith(c.message));
  CHECK(rt::ParseIndex(c.text).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a Docker manifest list and an OCI index parse") {
  auto list = rt::ParseIndex(DockerList().dump());
  REQUIRE(list.ok());
  CHECK(list->media_type == rt::kDockerManifestListMediaType);
  REQUIRE(list->manifests.size() == 2);
  CHECK(list->manifests[0].digest == Digest('a'));
  CHECK(list->manifests[0].size == 528);
  REQUIRE(list->manifests[0].platform.has_value());
  CHECK(*list->manifests[0].platform == rt::Platform{"linux", "amd64", ""});
  CHECK(*list->manifests[1].platform == rt::Platform{"linux", "arm64", "v8"});

  Json oci = {
      {"schemaVersion", 2},
      {"manifests",
       Json::array({Entry("application/vnd.oci.image.manifest.v1+json", 'd',
                          {{"os", "linux"}, {"architecture", "s390x"}}),
                    Entry("application/vnd.oci.image.manifest.v1+json", 'e', nullptr)})},
      {"annotations", {{"org.opencontainers.image.ref.name", "1.0"}}},
  };
  oci["manifests"][1]["annotations"] = {{"vnd.docker.reference.type", "attestation-manifest"}};
  auto index = rt::ParseIndex(oci.dump());
  REQUIRE(index.ok());
  CHECK(index->media_type == rt::kOciIndexMediaType);
  REQUIRE(index->manifests.size() == 2);
  CHECK(index->manifests[0].platform->architecture == "s390x");
  CHECK_FALSE(index->manifests[1].platform.has_value());
  CHECK(index->manifests[1].annotations.at("vnd.docker.reference.type") == "attestation-manifest");
  CHECK(index->annotations.at("org.opencontainers.image.ref.name") == "1.0");

  oci["manifests"] = Json::array();
  auto empty = rt::ParseIndex(oci.dump());
  REQUIRE(empty.ok());
  CHECK(empty->manifests.empty());
}

TEST_CASE("bad indexes are refused naming the field") {
  REQUIRE(rt::ParseIndex(DockerList().dump()).ok());
  auto c = GENERATE(values<BadDoc>({
      {"schema 1", [](Json& d) { d["schemaVersion"] = 1; },
       "index: schemaVersion: unsupported version 1"},
      {"schemaVersion missing", [](Json& d) { d.erase("schemaVersion"); },
       "index: schemaVersion: missing"},
      {"manifest media type",
       [](Json& d) { d["mediaType"] = "application/vnd.docker.distribution.manifest.v2+json"; },
       "index: mediaType: unexpected \"application/vnd.docker.distribution.manifest.v2+json\""},
      {"manifests missing", [](Json& d) { d.erase("manifests"); }, "index: manifests: missing"},
      {"manifests object", [](Json& d) { d["manifests"] = Json::object(); },
       "index: manifests: expected an array, got object"},
      {"entry bad digest", [](Json& d) { d["manifests"][1]["digest"] = "sha256:xyz"; },
       "index: manifests[1].digest: invalid digest \"sha256:xyz\""},
      {"entry size missing", [](Json& d) { d["manifests"][0].erase("size"); },
       "index: manifests[0].size: missing"},
      {"platform os missing", [](Json& d) { d["manifests"][1]["platform"].erase("os"); },
       "index: manifests[1].platform.os: missing"},
      {"platform architecture number",
       [](Json& d) { d["manifests"][0]["platform"]["architecture"] = 64; },
       "index: manifests[0].platform.architecture: unexpected number value 64"},
      {"platform not object", [](Json& d) { d["manifests"][0]["platform"] = "linux/amd64"; },
       "index: manifests[0].platform: expected an object, got string"},
      {"variant not string", [](Json& d) { d["manifests"][1]["platform"]["variant"] = 8; },
       "index: manifests[1].platform.variant: unexpected number value 8"},
  }));
  CAPTURE(c.name);
  Json doc = DockerList();
  c.mutate(doc);
  auto index = rt::ParseIndex(doc.dump());
  REQUIRE_FALSE(index.ok());
  CHECK(index.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(index.status()), Catch::StartsWith(c.message));
}

TEST_CASE("media type classification") {
  struct Case {
    std::string media_type;
    bool index, manifest, config;
  };
  auto c = GENERATE(values<Case>({
      {"application/vnd.oci.image.index.v1+json", true, false, false},
      {"application/vnd.docker.distribution.manifest.list.v2+json", true, false, false},
      {"application/vnd.oci.image.manifest.v1+json", false, true, false},
      {"application/vnd.docker.distribution.manifest.v2+json", false, true, false},
      {"application/vnd.oci.image.config.v1+json", false, false, true},
      {"application/vnd.docker.container.image.v1+json", false, false, true},
      {"application/vnd.docker.distribution.manifest.v1+prettyjws", false, false, false},
      {"application/vnd.docker.image.rootfs.diff.tar.gzip", false, false, false},
      {"application/json", false, false, false},
      {"", false, false, false},
  }));
  CAPTURE(c.media_type);
  CHECK(rt::IsIndexMediaType(c.media_type) == c.index);
  CHECK(rt::IsManifestMediaType(c.media_type) == c.manifest);
  CHECK(rt::IsConfigMediaType(c.media_type) == c.config);
}

TEST_CASE("layer compression follows the layer media type") {
  using LC = rt::LayerCompression;
  struct Case {
    std::string media_type;
    LC compression;
  };
  auto c = GENERATE(values<Case>({
      {"application/vnd.oci.image.layer.v1.tar", LC::kNone},
      {"application/vnd.oci.image.layer.v1.tar+gzip", LC::kGzip},
      {"application/vnd.oci.image.layer.v1.tar+zstd", LC::kZstd},
      {"application/vnd.docker.image.rootfs.diff.tar.gzip", LC::kGzip},
      {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", LC::kGzip},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar", LC::kNone},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", LC::kGzip},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", LC::kZstd},
  }));
  CAPTURE(c.media_type);
  auto got = rt::LayerCompressionOf(c.media_type);
  REQUIRE(got.ok());
  CHECK(*got == c.compression);
}

TEST_CASE("unknown layer media types are refused") {
  auto media_type = GENERATE(as<std::string>{}, "application/vnd.oci.image.layer.v1.tar+bzip2",
                             "application/vnd.oci.image.config.v1+json", "application/octet-stream",
                             "application/vnd.oci.image.layer.v1", "");
  CAPTURE(media_type);
  auto got = rt::LayerCompressionOf(media_type);
  REQUIRE_FALSE(got.ok());
  CHECK(got.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Message(got.status()) == "unknown layer media type \"" + media_type + "\"");
}

TEST_CASE("the Accept header lists the four manifest and index types") {
  std::string header = rt::AcceptHeader();
  std::vector<std::string> parts = absl::StrSplit(header, ", ");
  std::set<std::string> types(parts.begin(), parts.end());
  CHECK(parts.size() == 4);
  CHECK(types ==
        std::set<std::string>{"application/vnd.oci.image.manifest.v1+json",
                              "application/vnd.oci.image.index.v1+json",
                              "application/vnd.docker.distribution.manifest.v2+json",
                              "application/vnd.docker.distribution.manifest.list.v2+json"});
  for (const std::string& type : parts) {
    CHECK((rt::IsManifestMediaType(type) || rt::IsIndexMediaType(type)));
  }
}

TEST_CASE("HostPlatform names this machine as image platforms do") {
  rt::Platform host = rt::HostPlatform();
  CHECK(host.os == "linux");
#if defined(__x86_64__)
  CHECK(host == rt::Platform{"linux", "amd64", ""});
#elif defined(__aarch64__)
  CHECK(host == rt::Platform{"linux", "arm64", "v8"});
#endif
  // Cross-check against the kernel's name for the machine.
  struct utsname uts {};
  REQUIRE(::uname(&uts) == 0);
  auto kernel = rt::ParsePlatform(std::string("linux/") + uts.machine);
  REQUIRE(kernel.ok());
  CHECK(kernel->architecture == host.architecture);
}

TEST_CASE("ParsePlatform reads os/arch[/variant] and normalizes") {
  struct Case {
    std::string text;
    rt::Platform platform;
    std::string string;
  };
  auto c = GENERATE(values<Case>({
      {"linux/amd64", {"linux", "amd64", ""}, "linux/amd64"},
      {"linux/arm64/v8", {"linux", "arm64", "v8"}, "linux/arm64/v8"},
      {"linux/arm64/8", {"linux", "arm64", "v8"}, "linux/arm64/v8"},
      {"linux/arm/v7", {"linux", "arm", "v7"}, "linux/arm/v7"},
      {"Linux/X86_64", {"linux", "amd64", ""}, "linux/amd64"},
      {"linux/x86-64", {"linux", "amd64", ""}, "linux/amd64"},
      {"linux/aarch64", {"linux", "arm64", ""}, "linux/arm64"},
      {"linux/i386", {"linux", "386", ""}, "linux/386"},
      {"linux/s390x", {"linux", "s390x", ""}, "linux/s390x"},
      {"windows/amd64", {"windows", "amd64", ""}, "windows/amd64"},
  }));
  CAPTURE(c.text);
  auto p = rt::ParsePlatform(c.text);
  REQUIRE(p.ok());
  CHECK(*p == c.platform);
  CHECK(p->String() == c.string);
}

TEST_CASE("ParsePlatform refuses malformed platforms") {
  auto text = GENERATE(as<std::string>{}, "", "linux", "linux/", "/amd64", "linux//v7",
                       "linux/arm/", "linux/arm/v7/extra");
  CAPTURE(text);
  auto p = rt::ParsePlatform(text);
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Message(p.status()) ==
        "invalid platform \"" + text + "\": want os/architecture[/variant], e.g. linux/arm64/v8");
}

TEST_CASE("platform matching: os and architecture, variants when they matter") {
  struct Case {
    rt::Platform have, want;
    bool match;
  };
  auto c = GENERATE(values<Case>({
      {{"linux", "amd64", ""}, {"linux", "amd64", ""}, true},
      {{"linux", "amd64", "v3"}, {"linux", "amd64", ""}, true},  // amd64 ignores variants
      {{"linux", "amd64", ""}, {"linux", "amd64", "v2"}, true},
      {{"linux", "amd64", ""}, {"windows", "amd64", ""}, false},
      {{"linux", "arm64", ""}, {"linux", "amd64", ""}, false},
      {{"linux", "arm64", ""}, {"linux", "arm64", "v8"}, true},  // arm64 "" == v8
      {{"linux", "arm64", "v8"}, {"linux", "arm64", ""}, true},
      {{"linux", "arm64", "v8"}, {"linux", "arm64", "v8"}, true},
      {{"linux", "arm64", "v9"}, {"linux", "arm64", "v8"}, false},
      {{"linux", "arm", "v7"}, {"linux", "arm", "v7"}, true},
      {{"linux", "arm", "v6"}, {"linux", "arm", "v7"}, false},
      {{"linux", "arm", "v6"}, {"linux", "arm", ""}, true},  // no variant wanted
      {{"linux", "arm", ""}, {"linux", "arm", "v7"}, false},
  }));
  CAPTURE(c.have.String(), c.want.String());
  CHECK(rt::PlatformMatches(c.have, c.want) == c.match);
}

TEST_CASE("SelectManifest picks the entry for the platform") {
  const std::string m = "application/vnd.oci.image.manifest.v1+json";
  std::vector<rt::Descriptor> entries = {
      {m, Digest('0'), 1, std::nullopt, {}},                          // no platform
      {m, Digest('1'), 1, rt::Platform{"windows", "amd64", ""}, {}},  // other os
      {m, Digest('a'), 1, rt::Platform{"linux", "amd64", ""}, {}},
      {m, Digest('b'), 1, rt::Platform{"linux", "arm64", ""}, {}},
      {m, Digest('7'), 1, rt::Platform{"linux", "arm", "v7"}, {}},
      {m, Digest('6'), 1, rt::Platform{"linux", "arm", "v6"}, {}},
      {m, Digest('f'), 1, rt::Platform{"unknown", "unknown", ""}, {}},  // attestation
      {"application/vnd.oci.image.index.v1+json",
       Digest('e'),
       1,  // not a manifest
       rt::Platform{"linux", "ppc64le", ""},
       {}},
  };
  struct Case {
    std::string want;
    std::string digest;
  };
  auto c = GENERATE(values<Case>({
      {"linux/amd64", Digest('a')},
      {"linux/amd64/v3", Digest('a')},
      {"windows/amd64", Digest('1')},
      {"linux/arm64/v8", Digest('b')},
      {"linux/arm64", Digest('b')},
      {"linux/arm/v7", Digest('7')},
      {"linux/arm/v6", Digest('6')},
  }));
  CAPTURE(c.want);
  auto selected = rt::SelectManifest(entries, *rt::ParsePlatform(c.want));
  REQUIRE(selected.ok());
  CHECK(selected->digest == c.digest);
}

TEST_CASE("SelectManifest says which platforms the index has") {
  auto list = rt::ParseIndex(DockerList().dump());
  REQUIRE(list.ok());
  auto s390x = rt::SelectManifest(list->manifests, rt::Platform{"linux", "s390x", ""});
  CHECK(s390x.status().code() == absl::StatusCode::kNotFound);
  CHECK(Message(s390x.status()) ==
        "no manifest for platform linux/s390x in the index (has linux/amd64, linux/arm64/v8)");

  // Attestations, platform-less entries and non-manifests are not listed; duplicates once.
  const std::string m = "application/vnd.oci.image.manifest.v1+json";
  std::vector<rt::Descriptor> entries = {
      {m, Digest('a'), 1, rt::Platform{"linux", "arm", "v7"}, {}},
      {m, Digest('b'), 1, rt::Platform{"linux", "arm", "v7"}, {}},
      {m, Digest('c'), 1, std::nullopt, {}},
      {m, Digest('d'), 1, rt::Platform{"unknown", "unknown", ""}, {}},
      {"application/vnd.oci.image.index.v1+json",
       Digest('e'),
       1,
       rt::Platform{"linux", "arm", "v5"},
       {}},
  };
  auto v5 = rt::SelectManifest(entries, rt::Platform{"linux", "arm", "v5"});
  CHECK(Message(v5.status()) ==
        "no manifest for platform linux/arm/v5 in the index (has linux/arm/v7)");
  auto none = rt::SelectManifest({}, rt::Platform{"linux", "amd64", ""});
  CHECK(Message(none.status()) ==
        "no manifest for platform linux/amd64 in the index (has no platform manifests)");
}
