// Image manifests and indexes (OCI image spec v1, Docker image manifest v2
// schema 2 and manifest lists): media types, descriptors, parsing with
// validation, and choosing the manifest for a platform out of an index.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/json.h"

namespace berth::runtimed {

// OCI image spec media types.
inline constexpr absl::string_view kOciManifestMediaType =
    "application/vnd.oci.image.manifest.v1+json";
inline constexpr absl::string_view kOciIndexMediaType = "application/vnd.oci.image.index.v1+json";
inline constexpr absl::string_view kOciConfigMediaType = "application/vnd.oci.image.config.v1+json";
inline constexpr absl::string_view kOciLayerMediaType = "application/vnd.oci.image.layer.v1.tar";
inline constexpr absl::string_view kOciLayerGzipMediaType =
    "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr absl::string_view kOciLayerZstdMediaType =
    "application/vnd.oci.image.layer.v1.tar+zstd";
// Deprecated in the OCI spec but still found in registries.
inline constexpr absl::string_view kOciNondistributableLayerMediaType =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
inline constexpr absl::string_view kOciNondistributableLayerGzipMediaType =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr absl::string_view kOciNondistributableLayerZstdMediaType =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";

// Docker image manifest v2, schema 2.
inline constexpr absl::string_view kDockerManifestMediaType =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr absl::string_view kDockerManifestListMediaType =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr absl::string_view kDockerConfigMediaType =
    "application/vnd.docker.container.image.v1+json";
inline constexpr absl::string_view kDockerLayerMediaType =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr absl::string_view kDockerForeignLayerMediaType =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

struct Platform {
  std::string os;            // "linux"
  std::string architecture;  // GOARCH names: "amd64", "arm64", "arm", "386", "s390x"...
  std::string variant;       // "v8", "v7"; often empty

  // "linux/arm64/v8", or "linux/amd64" without a variant.
  std::string String() const;
  bool operator==(const Platform&) const = default;
};

struct Descriptor {
  std::string media_type;
  std::string digest;  // validated: sha256:<64 lowercase hex>
  int64_t size = 0;    // >= 0
  std::optional<Platform> platform;
  std::map<std::string, std::string> annotations;

  bool operator==(const Descriptor&) const = default;
};

struct Manifest {
  std::string media_type;          // kOciManifestMediaType or kDockerManifestMediaType
  Descriptor config;               // media type kOciConfigMediaType or kDockerConfigMediaType
  std::vector<Descriptor> layers;  // base layer first; media types known (LayerCompressionOf)
  std::map<std::string, std::string> annotations;
};

struct ImageIndex {
  std::string media_type;  // kOciIndexMediaType or kDockerManifestListMediaType
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;
};

bool IsIndexMediaType(absl::string_view media_type);     // OCI index, Docker manifest list
bool IsManifestMediaType(absl::string_view media_type);  // OCI manifest, Docker schema 2
bool IsConfigMediaType(absl::string_view media_type);    // OCI config, Docker container image

enum class LayerCompression { kNone, kGzip, kZstd };
// The compression a layer media type announces; InvalidArgument for a media
// type that is not a known layer type.
absl::StatusOr<LayerCompression> LayerCompressionOf(absl::string_view media_type);

// The Accept header for manifest requests: all four manifest and index media
// types (registries answer 404 to an OCI manifest unless OCI types are
// accepted).
std::string AcceptHeader();

// A descriptor object; errors name `path` ("layers[2]") and the field:
// "layers[2].digest: invalid digest …".
absl::StatusOr<Descriptor> ParseDescriptor(const Json& value, absl::string_view path);

// A single-platform image manifest. Checks schemaVersion 2, the mediaType (a
// manifest type; absent means OCI, which makes it optional), the config
// descriptor (an image config media type) and every layer (a known layer media
// type). Errors are InvalidArgument naming the field: "manifest: layers[1].digest: …".
absl::StatusOr<Manifest> ParseManifest(absl::string_view text);

// An OCI index or Docker manifest list. Checks schemaVersion 2, the mediaType
// (an index type; absent means OCI) and every entry's descriptor.
absl::StatusOr<ImageIndex> ParseIndex(absl::string_view text);

// The platform this binary runs on: linux/amd64 on x86_64, linux/arm64/v8 on
// aarch64, and so on (decided at compile time).
Platform HostPlatform();

// "os/arch" or "os/arch/variant" ("linux/arm64/v8"). Normalizes like
// containerd: lowercase, x86_64 -> amd64, aarch64 -> arm64, i386 -> 386,
// arm64's variant "8" -> "v8". InvalidArgument on anything else.
absl::StatusOr<Platform> ParsePlatform(absl::string_view text);

// Whether an image for `have` runs on `want`: os and architecture equal;
// variants compared when `want` has one (arm64 treats an empty variant as v8,
// amd64 ignores variants).
bool PlatformMatches(const Platform& have, const Platform& want);

// The first entry of an index whose platform matches `want` (entries that are
// not manifests or carry no platform are skipped). NotFound lists what the
// index has: "no manifest for platform linux/s390x in the index (has
// linux/amd64, linux/arm64/v8)".
absl::StatusOr<Descriptor> SelectManifest(const std::vector<Descriptor>& manifests,
                                          const Platform& want);

}  // namespace berth::runtimed
