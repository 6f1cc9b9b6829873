#include "engine/daemon/image_service.h"

#include <fmt/format.h>

#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status.h"
#include "highlevel-runtime/image/reference.h"

namespace berth::engine {
namespace {

std::string ShortId(const std::string& digest) {
  return std::string(absl::StripPrefix(digest, "sha256:").substr(0, 12));
}

// "[=====>      ] 1.2MB/4.5MB", Docker's progress bar (jsonmessage.JSONProgress).
std::string ProgressBar(int64_t current, int64_t total) {
  auto human = [](int64_t n) {
    const char* units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = static_cast<double>(n);
    int u = 0;
    while (v >= 1000 && u < 4) {
      v /= 1000;
      ++u;
    }
    return fmt::format("{:.4g}{}", v, units[u]);
  };
  if (total <= 0) return human(current);
  constexpr int kWidth = 50;
  int filled = static_cast<int>(
      kWidth * std::min<double>(1.0, static_cast<double>(current) / static_cast<double>(total)));
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < kWidth) bar += '>';
  bar.resize(kWidth, ' ');
  return absl::StrCat("[", bar, "] ", human(current), "/", human(total));
}

int64_t CreatedUnix(const nlohmann::json& config) {
  absl::Time t;
  std::string created = config.value("created", "");
  if (!created.empty() && absl::ParseTime(absl::RFC3339_full, created, &t, nullptr)) {
    return absl::ToUnixSeconds(t);
  }
  return 0;
}

absl::StatusOr<api::RegistryAuth> ParseRegistryAuth(const std::string& header) {
  api::RegistryAuth auth;
  if (header.empty()) return auth;
  std::string decoded;
  if (!absl::WebSafeBase64Unescape(header, &decoded) && !absl::Base64Unescape(header, &decoded)) {
    return absl::InvalidArgumentError("X-Registry-Auth: not base64");
  }
  nlohmann::json config = nlohmann::json::parse(decoded, nullptr, false);
  if (!config.is_object()) return absl::InvalidArgumentError("X-Registry-Auth: not a JSON object");
  auto text = [&](const char* key) {
    auto it = config.find(key);
    return it != config.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auth.set_username(text("username"));
  auth.set_password(text("password"));
  if (!text("identitytoken").empty() && auth.password().empty()) {
    auth.set_password(text("identitytoken"));
  }
  return auth;
}

}  // namespace

std::string FamiliarName(const std::string& normalized) {
  absl::string_view name = normalized;
  if (absl::ConsumePrefix(&name, "docker.io/")) absl::ConsumePrefix(&name, "library/");
  return std::string(name);
}

absl::Status ImageService::Pull(const std::string& reference, const std::string& platform,
                                const std::string& auth_header,
                                const std::function<void(const nlohmann::json&)>& emit) {
  BERTH_ASSIGN_OR_RETURN(api::RegistryAuth auth, ParseRegistryAuth(auth_header));
  BERTH_ASSIGN_OR_RETURN(runtimed::ImageReference ref, runtimed::ParseImageReference(reference));
  // The image the name pointed at before, for "Image is up to date".
  std::string before;
  {
    api::GetImageRequest get;
    get.set_name(ref.String());
    api::Image old;
    if (runtimed_.images().Get(runtimed_.Context().get(), get, &old).ok()) {
      before = old.target().digest();
    }
  }
  api::PullImageRequest request;
  request.set_reference(ref.String());
  request.set_platform(platform);
  if (!auth.username().empty()) *request.mutable_auth() = auth;
  auto context = runtimed_.Context(std::chrono::hours(1));
  auto reader = runtimed_.images().Pull(context.get(), request);
  bool started = false;
  auto start = [&] {
    if (started) return;
    started = true;
    std::string path = ref.path;
    emit({{"status", absl::StrCat("Pulling from ", path)},
          {"id", ref.tag.empty() ? ref.digest : ref.tag}});
  };
  std::set<std::string> layers_seen;
  std::vector<std::string> layers;
  api::PullImageEvent event;
  api::Image pulled;
  while (reader->Read(&event)) {
    if (event.has_image()) {
      pulled = event.image();
      continue;
    }
    const api::PullProgress& p = event.progress();
    if (p.status() == "unpacked") {
      for (const std::string& layer : layers) {
        emit({{"status", "Pull complete"},
              {"progressDetail", nlohmann::json::object()},
              {"id", ShortId(layer)}});
      }
      continue;
    }
    if (!absl::StrContains(p.media_type(), "layer")) continue;
    start();
    const std::string id = ShortId(p.digest());
    if (p.status() == "exists") {
      if (layers_seen.insert(p.digest()).second) {
        emit({{"status", "Already exists"},
              {"progressDetail", nlohmann::json::object()},
              {"id", id}});
      }
      continue;
    }
    if (layers_seen.insert(p.digest()).second) {
      layers.push_back(p.digest());
      emit({{"status", "Pulling fs layer"},
            {"progressDetail", nlohmann::json::object()},
            {"id", id}});
    }
    if (p.status() == "downloading") {
      emit({{"status", "Downloading"},
            {"progressDetail", {{"current", p.offset()}, {"total", p.total()}}},
            {"progress", ProgressBar(p.offset(), p.total())},
            {"id", id}});
    } else if (p.status() == "done") {
      emit({{"status", "Verifying Checksum"},
            {"progressDetail", nlohmann::json::object()},
            {"id", id}});
      emit({{"status", "Download complete"},
            {"progressDetail", nlohmann::json::object()},
            {"id", id}});
    }
  }
  absl::Status status = FromGrpc(reader->Finish());
  if (!status.ok()) {
    if (status.code() == absl::StatusCode::kNotFound &&
        !absl::StartsWith(status.message(), "manifest for ")) {
      status = absl::NotFoundError(absl::StrCat("manifest for ", FamiliarName(ref.String()),
                                                " not found: ", status.message()));
    }
    if (started) {
      emit({{"errorDetail", {{"message", std::string(status.message())}}},
            {"error", std::string(status.message())}});
    }
    return status;
  }
  start();
  // dockerd's LogImageEvent(FamiliarString(ref), FamiliarName(ref), "pull").
  {
    std::string familiar = FamiliarName(ref.String());
    std::string name = familiar.substr(0, familiar.find('@'));
    if (size_t colon = name.rfind(':');
        colon != std::string::npos && name.find('/', colon) == std::string::npos) {
      name.resize(colon);
    }
    Publish(ImageEvent("pull", familiar, name));
  }
  emit({{"status", absl::StrCat("Digest: ", pulled.target().digest())}});
  emit({{"status",
         before == pulled.target().digest()
             ? absl::StrCat("Status: Image is up to date for ", FamiliarName(ref.String()))
             : absl::StrCat("Status: Downloaded newer image for ", FamiliarName(ref.String()))}});
  return absl::OkStatus();
}

absl::StatusOr<nlohmann::json> ImageService::Config(const std::string& digest) {
  {
    std::lock_guard lock(mu_);
    if (auto it = configs_.find(digest); it != configs_.end()) return it->second;
  }
  api::ReadContentRequest request;
  request.set_digest(digest);
  auto context = runtimed_.Context();
  auto reader = runtimed_.content().Read(context.get(), request);
  std::string bytes;
  api::ReadContentResponse chunk;
  while (reader->Read(&chunk)) bytes += chunk.data();
  BERTH_RETURN_IF_ERROR(FromGrpc(reader->Finish()));
  nlohmann::json config = nlohmann::json::parse(bytes, nullptr, false);
  if (!config.is_object()) {
    return absl::DataLossError(absl::StrCat("image config ", digest, " is not a JSON object"));
  }
  std::lock_guard lock(mu_);
  configs_[digest] = config;
  return config;
}

absl::StatusOr<std::vector<api::Image>> ImageService::All() {
  api::ListImagesResponse list;
  BERTH_RETURN_IF_ERROR(FromGrpc(
      runtimed_.images().List(runtimed_.Context().get(), api::ListImagesRequest(), &list)));
  return std::vector<api::Image>(list.images().begin(), list.images().end());
}

absl::StatusOr<ResolvedImage> ImageService::Resolve(const std::string& ref) {
  auto not_found = absl::NotFoundError(absl::StrCat("No such image: ", ref));
  if (ref.empty()) return not_found;
  // The common case, a name runtimed has: one lookup rather than a list.
  if (auto parsed = runtimed::ParseImageReference(ref); parsed.ok()) {
    api::GetImageRequest get;
    get.set_name(parsed->String());
    api::Image image;
    grpc::Status got = runtimed_.images().Get(runtimed_.Context().get(), get, &image);
    if (got.ok()) {
      BERTH_ASSIGN_OR_RETURN(nlohmann::json config, Config(image.config().digest()));
      return ResolvedImage{image.config().digest(), image.name(), std::move(config), image};
    }
    if (got.error_code() != grpc::StatusCode::NOT_FOUND) return FromGrpc(got);
  }
  BERTH_ASSIGN_OR_RETURN(std::vector<api::Image> images, All());
  const api::Image* found = nullptr;
  // A name (tag or digest reference) first, as docker does.
  if (auto parsed = runtimed::ParseImageReference(ref); parsed.ok()) {
    for (const api::Image& image : images) {
      if (image.name() == parsed->String()) found = &image;
    }
    if (found == nullptr && !parsed->digest.empty()) {
      for (const api::Image& image : images) {
        auto named = runtimed::ParseImageReference(image.name());
        if (named.ok() && named->Repository() == parsed->Repository() &&
            image.target().digest() == parsed->digest) {
          found = &image;
        }
      }
    }
  }
  // Then an image id: "sha256:<hex>" or a prefix of the hex.
  if (found == nullptr) {
    std::string hex(absl::StripPrefix(ref, "sha256:"));
    bool is_hex = !hex.empty() && hex.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (is_hex) {
      std::set<std::string> ids;
      for (const api::Image& image : images) {
        if (absl::StartsWith(absl::StripPrefix(image.config().digest(), "sha256:"), hex)) {
          ids.insert(image.config().digest());
          if (found == nullptr) found = &image;
        }
      }
      if (ids.size() > 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("multiple IDs found with provided prefix: ", ref));
      }
    }
  }
  if (found == nullptr) return not_found;
  BERTH_ASSIGN_OR_RETURN(nlohmann::json config, Config(found->config().digest()));
  return ResolvedImage{found->config().digest(), found->name(), std::move(config), *found};
}

absl::StatusOr<nlohmann::ordered_json> ImageService::List(bool digests) {
  (void)digests;
  BERTH_ASSIGN_OR_RETURN(std::vector<api::Image> images, All());
  // Docker lists an image once with all its names.
  std::map<std::string, nlohmann::ordered_json> by_id;
  for (const api::Image& image : images) {
    auto parsed = runtimed::ParseImageReference(image.name());
    if (!parsed.ok()) continue;
    const std::string& id = image.config().digest();
    auto it = by_id.find(id);
    if (it == by_id.end()) {
      BERTH_ASSIGN_OR_RETURN(nlohmann::json config, Config(id));
      nlohmann::json labels = nlohmann::json::object();
      if (config.contains("config") && config["config"].is_object() &&
          config["config"].contains("Labels") && config["config"]["Labels"].is_object()) {
        labels = config["config"]["Labels"];
      }
      it = by_id
               .emplace(id, nlohmann::ordered_json{{"Id", id},
                                                   {"ParentId", ""},
                                                   {"RepoTags", nlohmann::json::array()},
                                                   {"RepoDigests", nlohmann::json::array()},
                                                   {"Created", CreatedUnix(config)},
                                                   {"Size", image.size()},
                                                   {"SharedSize", -1},
                                                   {"VirtualSize", image.size()},
                                                   {"Labels", labels},
                                                   {"Containers", -1}})
               .first;
    }
    std::string familiar_repo = FamiliarName(parsed->Repository());
    if (!parsed->tag.empty()) {
      it->second["RepoTags"].push_back(absl::StrCat(familiar_repo, ":", parsed->tag));
    }
    std::string repo_digest = absl::StrCat(familiar_repo, "@", image.target().digest());
    auto& repo_digests = it->second["RepoDigests"];
    if (std::find(repo_digests.begin(), repo_digests.end(), repo_digest) == repo_digests.end()) {
      repo_digests.push_back(repo_digest);
    }
  }
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (auto& [id, summary] : by_id) out.push_back(std::move(summary));
  std::sort(out.begin(), out.end(),
            [](const nlohmann::ordered_json& a, const nlohmann::ordered_json& b) {
              return a["Created"].get<int64_t>() > b["Created"].get<int64_t>();
            });
  return out;
}

absl::StatusOr<nlohmann::ordered_json> ImageService::Inspect(const std::string& ref) {
  BERTH_ASSIGN_OR_RETURN(ResolvedImage image, Resolve(ref));
  BERTH_ASSIGN_OR_RETURN(nlohmann::ordered_json list, List(true));
  nlohmann::ordered_json tags = nlohmann::ordered_json::array();
  nlohmann::ordered_json digests = nlohmann::ordered_json::array();
  for (const nlohmann::ordered_json& summary : list) {
    if (summary["Id"] == image.id) {
      tags = summary["RepoTags"];
      digests = summary["RepoDigests"];
    }
  }
  const nlohmann::json& c = image.config;
  nlohmann::json layers = nlohmann::json::array();
  if (c.contains("rootfs") && c["rootfs"].contains("diff_ids")) layers = c["rootfs"]["diff_ids"];
  return nlohmann::ordered_json{
      {"Id", image.id},
      {"RepoTags", tags},
      {"RepoDigests", digests},
      {"Parent", ""},
      {"Comment", c.value("comment", "")},
      {"Created", c.value("created", "0001-01-01T00:00:00Z")},
      {"Container", ""},
      {"ContainerConfig", nlohmann::json::object()},
      {"DockerVersion", c.value("docker_version", "")},
      {"Author", c.value("author", "")},
      {"Config", c.value("config", nlohmann::json::object())},
      {"Architecture", c.value("architecture", "")},
      {"Variant", c.value("variant", "")},
      {"Os", c.value("os", "")},
      {"Size", image.image.size()},
      {"VirtualSize", image.image.size()},
      {"GraphDriver", {{"Name", "overlay2"}, {"Data", nlohmann::json::object()}}},
      {"RootFS", {{"Type", "layers"}, {"Layers", layers}}},
      {"Metadata", {{"LastTagTime", "0001-01-01T00:00:00Z"}}},
  };
}

void ImageService::Publish(Event e) {
  if (events_ != nullptr) events_->Publish(std::move(e));
}

absl::StatusOr<nlohmann::json> ImageService::Remove(
    const std::string& ref, bool force, const std::function<bool(const std::string&)>& in_use) {
  BERTH_ASSIGN_OR_RETURN(ResolvedImage image, Resolve(ref));
  BERTH_ASSIGN_OR_RETURN(std::vector<api::Image> images, All());
  std::vector<std::string> names;
  auto parsed = runtimed::ParseImageReference(ref);
  bool by_name = parsed.ok() && parsed->String() == image.name;
  for (const api::Image& i : images) {
    if (i.config().digest() != image.id) continue;
    if (by_name && i.name() != image.name) continue;
    names.push_back(i.name());
  }
  size_t names_of_id = 0;
  for (const api::Image& i : images) names_of_id += i.config().digest() == image.id ? 1 : 0;
  bool last = names.size() == names_of_id;
  if (last && !force && in_use(image.id)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "conflict: unable to remove repository reference \"", ref,
        "\" (must force) - container is using its referenced image ", ShortId(image.id)));
  }
  nlohmann::json out = nlohmann::json::array();
  for (const std::string& name : names) {
    api::DeleteImageRequest request;
    request.set_name(name);
    api::DeleteImageResponse response;
    BERTH_RETURN_IF_ERROR(
        FromGrpc(runtimed_.images().Delete(runtimed_.Context().get(), request, &response)));
    out.push_back({{"Untagged", FamiliarName(name)}});
    Publish(ImageEvent("untag", image.id, image.id));  // as dockerd names them
  }
  if (last) {
    out.push_back({{"Deleted", image.id}});
    Publish(ImageEvent("delete", image.id, image.id));
  }
  return out;
}

}  // namespace berth::engine
