#include "highlevel-runtime/image/manifest.h"

#include <sys/utsname.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status.h"
#include "highlevel-runtime/image/reference.h"

namespace berth::runtimed {
namespace {

using Annotations = std::map<std::string, std::string>;

absl::Status Invalid(absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

std::string Join(absl::string_view path, absl::string_view field) {
  return absl::StrCat(path, ".", field);
}

// Checks "schemaVersion": 2.
absl::Status CheckSchemaVersion(const Json& doc) {
  constexpr absl::string_view kPath = "schemaVersion";
  auto it = doc.find(std::string(kPath));
  if (it == doc.end() || it->is_null()) return Invalid(kPath, "missing");
  if (!it->is_number_integer()) {
    return Invalid(kPath, absl::StrCat("unexpected ", JsonTypeName(*it), " value ", DumpJson(*it)));
  }
  int64_t version = it->get<int64_t>();
  if (version != 2) {
    return Invalid(kPath,
                   absl::StrCat("unsupported version ", version,
                                version == 1 ? " (Docker schema 1 images are no longer supported; "
                                               "push the image again with a current client)"
                                             : " (only version 2 is supported)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Annotations> ParseAnnotations(const Json& object, absl::string_view path) {
  BERTH_ASSIGN_OR_RETURN(std::optional<Annotations> annotations,
                         JsonOptionalField<Annotations>(object, "annotations", path));
  return annotations.value_or(Annotations());
}

// The document's mediaType: `fallback` when absent (OCI makes it optional),
// else one `accept` allows.
absl::StatusOr<std::string> DocumentMediaType(const Json& doc, absl::string_view fallback,
                                              bool (*accept)(absl::string_view),
                                              absl::string_view expected) {
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> media_type,
                         JsonOptionalField<std::string>(doc, "mediaType", ""));
  if (!media_type) return std::string(fallback);
  if (!accept(*media_type)) {
    return Invalid("mediaType",
                   absl::StrCat("unexpected \"", *media_type, "\" (want ", expected, ")"));
  }
  return *media_type;
}

// A JSON array member, or an error naming it.
absl::StatusOr<const Json*> RequiredArray(const Json& doc, absl::string_view key) {
  auto it = doc.find(std::string(key));
  if (it == doc.end() || it->is_null()) return Invalid(key, "missing");
  if (!it->is_array()) {
    return Invalid(key, absl::StrCat("expected an array, got ", JsonTypeName(*it)));
  }
  return &*it;
}

// Parses `text` as a JSON object and hands it to `parse`; every error is
// prefixed with `document` ("manifest: layers[1].digest: …").
template <typename T>
absl::StatusOr<T> ParseDocument(absl::string_view text, absl::string_view document,
                                absl::StatusOr<T> (*parse)(const Json&)) {
  BERTH_ASSIGN_OR_RETURN(Json doc, ParseJson(text, document));
  if (!doc.is_object()) {
    return Invalid(document, absl::StrCat("expected a JSON object, got ", JsonTypeName(doc)));
  }
  absl::StatusOr<T> result = parse(doc);
  if (!result.ok()) return Annotate(result.status(), document);
  return result;
}

absl::StatusOr<Manifest> ManifestFromJson(const Json& doc) {
  BERTH_RETURN_IF_ERROR(CheckSchemaVersion(doc));
  Manifest manifest;
  BERTH_ASSIGN_OR_RETURN(
      manifest.media_type,
      DocumentMediaType(doc, kOciManifestMediaType, IsManifestMediaType,
                        absl::StrCat(kOciManifestMediaType, " or ", kDockerManifestMediaType)));

  BERTH_ASSIGN_OR_RETURN(Json config, JsonField<Json>(doc, "config", ""));
  BERTH_ASSIGN_OR_RETURN(manifest.config, ParseDescriptor(config, "config"));
  if (!IsConfigMediaType(manifest.config.media_type)) {
    return Invalid("config.mediaType",
                   absl::StrCat("unsupported \"", manifest.config.media_type,
                                "\" (not a container image; want ", kOciConfigMediaType, " or ",
                                kDockerConfigMediaType, ")"));
  }

  BERTH_ASSIGN_OR_RETURN(const Json* layers, RequiredArray(doc, "layers"));
  for (size_t i = 0; i < layers->size(); ++i) {
    std::string path = absl::StrCat("layers[", i, "]");
    BERTH_ASSIGN_OR_RETURN(Descriptor layer, ParseDescriptor((*layers)[i], path));
    if (absl::StatusOr<LayerCompression> c = LayerCompressionOf(layer.media_type); !c.ok()) {
      return Invalid(Join(path, "mediaType"), c.status().message());
    }
    manifest.layers.push_back(std::move(layer));
  }
  BERTH_ASSIGN_OR_RETURN(manifest.annotations, ParseAnnotations(doc, ""));
  return manifest;
}

absl::StatusOr<ImageIndex> IndexFromJson(const Json& doc) {
  BERTH_RETURN_IF_ERROR(CheckSchemaVersion(doc));
  ImageIndex index;
  BERTH_ASSIGN_OR_RETURN(
      index.media_type,
      DocumentMediaType(doc, kOciIndexMediaType, IsIndexMediaType,
                        absl::StrCat(kOciIndexMediaType, " or ", kDockerManifestListMediaType)));
  BERTH_ASSIGN_OR_RETURN(const Json* manifests, RequiredArray(doc, "manifests"));
  for (size_t i = 0; i < manifests->size(); ++i) {
    BERTH_ASSIGN_OR_RETURN(Descriptor entry,
                           ParseDescriptor((*manifests)[i], absl::StrCat("manifests[", i, "]")));
    index.manifests.push_back(std::move(entry));
  }
  BERTH_ASSIGN_OR_RETURN(index.annotations, ParseAnnotations(doc, ""));
  return index;
}

absl::StatusOr<Platform> ParsePlatformObject(const Json& value, absl::string_view path) {
  if (!value.is_object()) {
    return Invalid(path, absl::StrCat("expected an object, got ", JsonTypeName(value)));
  }
  Platform platform;
  BERTH_ASSIGN_OR_RETURN(platform.os, JsonField<std::string>(value, "os", path));
  BERTH_ASSIGN_OR_RETURN(platform.architecture,
                         JsonField<std::string>(value, "architecture", path));
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> variant,
                         JsonOptionalField<std::string>(value, "variant", path));
  platform.variant = variant.value_or("");
  return platform;
}

// The architecture names of GOARCH, which image platforms use.
std::string NormalizeArchitecture(std::string arch) {
  arch = absl::AsciiStrToLower(arch);
  if (arch == "x86_64" || arch == "x86-64") return "amd64";
  if (arch == "aarch64") return "arm64";
  if (arch == "i386" || arch == "i486" || arch == "i586" || arch == "i686") return "386";
  return arch;
}

// The variant compared for arm64 treats no variant as v8. (amd64 variants,
// v2, v3..., never get here: WantsVariant ignores them.)
std::string EffectiveVariant(const Platform& platform) {
  if (platform.architecture == "arm64") {
    if (platform.variant.empty() || platform.variant == "8") return "v8";
  }
  return platform.variant;
}

bool WantsVariant(const Platform& want) {
  return want.architecture != "amd64" && !want.variant.empty();
}

}  // namespace

std::string Platform::String() const {
  std::string out = absl::StrCat(os, "/", architecture);
  if (!variant.empty()) absl::StrAppend(&out, "/", variant);
  return out;
}

bool IsIndexMediaType(absl::string_view media_type) {
  return media_type == kOciIndexMediaType || media_type == kDockerManifestListMediaType;
}

bool IsManifestMediaType(absl::string_view media_type) {
  return media_type == kOciManifestMediaType || media_type == kDockerManifestMediaType;
}

bool IsConfigMediaType(absl::string_view media_type) {
  return media_type == kOciConfigMediaType || media_type == kDockerConfigMediaType;
}

absl::StatusOr<LayerCompression> LayerCompressionOf(absl::string_view media_type) {
  if (media_type == kOciLayerMediaType || media_type == kOciNondistributableLayerMediaType) {
    return LayerCompression::kNone;
  }
  if (media_type == kOciLayerGzipMediaType ||
      media_type == kOciNondistributableLayerGzipMediaType || media_type == kDockerLayerMediaType ||
      media_type == kDockerForeignLayerMediaType) {
    return LayerCompression::kGzip;
  }
  if (media_type == kOciLayerZstdMediaType ||
      media_type == kOciNondistributableLayerZstdMediaType) {
    return LayerCompression::kZstd;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown layer media type \"", media_type, "\""));
}

std::string AcceptHeader() {
  return absl::StrCat(kOciIndexMediaType, ", ", kOciManifestMediaType, ", ",
                      kDockerManifestListMediaType, ", ", kDockerManifestMediaType);
}

absl::StatusOr<Descriptor> ParseDescriptor(const Json& value, absl::string_view path) {
  if (!value.is_object()) {
    return Invalid(path, absl::StrCat("expected an object, got ", JsonTypeName(value)));
  }
  Descriptor desc;
  BERTH_ASSIGN_OR_RETURN(desc.media_type, JsonField<std::string>(value, "mediaType", path));
  BERTH_ASSIGN_OR_RETURN(desc.digest, JsonField<std::string>(value, "digest", path));
  if (absl::Status st = ValidateDigest(desc.digest); !st.ok()) {
    return Invalid(Join(path, "digest"), st.message());
  }
  BERTH_ASSIGN_OR_RETURN(Json size, JsonField<Json>(value, "size", path));
  if (!size.is_number_integer() || size.get<int64_t>() < 0) {
    return Invalid(Join(path, "size"), absl::StrCat("expected a non-negative integer, got ",
                                                    JsonTypeName(size), " ", DumpJson(size)));
  }
  desc.size = size.get<int64_t>();
  if (auto it = value.find("platform"); it != value.end() && !it->is_null()) {
    BERTH_ASSIGN_OR_RETURN(desc.platform, ParsePlatformObject(*it, Join(path, "platform")));
  }
  BERTH_ASSIGN_OR_RETURN(desc.annotations, ParseAnnotations(value, path));
  return desc;
}

absl::StatusOr<Manifest> ParseManifest(absl::string_view text) {
  return ParseDocument<Manifest>(text, "manifest", ManifestFromJson);
}

absl::StatusOr<ImageIndex> ParseIndex(absl::string_view text) {
  return ParseDocument<ImageIndex>(text, "index", IndexFromJson);
}

Platform HostPlatform() {
#if defined(__x86_64__)
  return Platform{"linux", "amd64", ""};
#elif defined(__aarch64__)
  return Platform{"linux", "arm64", "v8"};
#elif defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7
  return Platform{"linux", "arm", "v7"};
#elif defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH == 6
  return Platform{"linux", "arm", "v6"};
#elif defined(__arm__)
  return Platform{"linux", "arm", "v5"};
#elif defined(__i386__)
  return Platform{"linux", "386", ""};
#elif defined(__s390x__)
  return Platform{"linux", "s390x", ""};
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return Platform{"linux", "ppc64le", ""};
#elif defined(__riscv) && __riscv_xlen == 64
  return Platform{"linux", "riscv64", ""};
#else
  // An architecture not listed above: ask the kernel.
  struct utsname uts {};
  if (::uname(&uts) != 0) return Platform{"linux", "unknown", ""};
  return Platform{"linux", NormalizeArchitecture(uts.machine), ""};
#endif
}

absl::StatusOr<Platform> ParsePlatform(absl::string_view text) {
  std::vector<std::string> parts = absl::StrSplit(text, '/');
  auto invalid = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid platform \"", text, "\": want os/architecture[/variant], e.g. linux/arm64/v8"));
  };
  if (parts.size() < 2 || parts.size() > 3) return invalid();
  for (const std::string& part : parts) {
    if (part.empty()) return invalid();
  }
  Platform platform;
  platform.os = absl::AsciiStrToLower(parts[0]);
  platform.architecture = NormalizeArchitecture(parts[1]);
  if (parts.size() == 3) platform.variant = absl::AsciiStrToLower(parts[2]);
  if (platform.architecture == "arm64" && platform.variant == "8") platform.variant = "v8";
  return platform;
}

bool PlatformMatches(const Platform& have, const Platform& want) {
  if (have.os != want.os || have.architecture != want.architecture) return false;
  if (!WantsVariant(want)) return true;
  return EffectiveVariant(have) == EffectiveVariant(want);
}

absl::StatusOr<Descriptor> SelectManifest(const std::vector<Descriptor>& manifests,
                                          const Platform& want) {
  std::vector<std::string> available;
  for (const Descriptor& entry : manifests) {
    if (!IsManifestMediaType(entry.media_type) || !entry.platform) continue;
    if (PlatformMatches(*entry.platform, want)) return entry;
    // Attestation manifests (buildx) carry unknown/unknown: not a platform.
    if (entry.platform->os == "unknown") continue;
    std::string name = entry.platform->String();
    if (std::find(available.begin(), available.end(), name) == available.end()) {
      available.push_back(std::move(name));
    }
  }
  return absl::NotFoundError(absl::StrCat(
      "no manifest for platform ", want.String(), " in the index (has ",
      available.empty() ? "no platform manifests" : absl::StrJoin(available, ", "), ")"));
}

}  // namespace berth::runtimed
