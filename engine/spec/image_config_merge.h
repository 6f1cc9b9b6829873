// dockerd's merge of a create request's Config with the image's config
// (moby daemon/create.go mergeAndVerifyConfig and daemon/commit.go merge).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/json.h"

namespace berth::engine::spec {

// Fills `config` (a Docker container Config) from `image_config` (the "config"
// object of an OCI/Docker image config) where the request left things unset:
//  - User, WorkingDir, StopSignal: the image's when empty.
//  - Env: the request's entries, then each image entry whose key the request
//    does not name (a bare "KEY" in the request counts as naming KEY).
//  - Labels: the image's, overridden by the request's. ExposedPorts, Volumes: union.
//  - Healthcheck: the image's, field by field where the request's is zero.
//  - Entrypoint/Cmd: when the request has no Entrypoint (null or []), Cmd falls
//    back to the image's Cmd if empty, and a null Entrypoint takes the image's.
//    A non-empty Entrypoint replaces the image's and keeps the image's Cmd out.
//    Entrypoint [""] then means "no entrypoint" and is cleared.
//  - OnBuild: the image's when the request has none.
// Cmd and Entrypoint may be given as a string (Docker's StrSlice); they come
// out as arrays. Fails with InvalidArgument "No command specified" when neither
// an Entrypoint nor a Cmd is left, as dockerd does.
absl::Status MergeImageConfig(Json& config, const Json& image_config);

// A Config's StrSlice field (Cmd, Entrypoint, Shell): an array of strings, a
// single string, or null/absent (an empty list).
absl::StatusOr<std::vector<std::string>> StringSlice(const Json& config, const std::string& key);

// The process arguments of a merged Config: Entrypoint then Cmd.
absl::StatusOr<std::vector<std::string>> ProcessArgs(const Json& config);

}  // namespace berth::engine::spec
