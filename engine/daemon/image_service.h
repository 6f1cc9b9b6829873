// Docker's image endpoints on top of berth-runtimed's Images and Content
// services: pull with Docker's JSON progress messages, the image list and
// inspect shapes, and resolving what a user types (a name, a digest
// reference, an image id or a prefix of one) to a stored image.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/daemon/event_log.h"
#include "engine/runtimed_client.h"

namespace berth::engine {

struct ResolvedImage {
  std::string id;         // the config digest, as Docker's image id
  std::string name;       // runtimed's normalized name: "docker.io/library/busybox:latest"
  nlohmann::json config;  // the whole image config document
  api::Image image;
};

// "docker.io/library/busybox:latest" -> "busybox:latest", as docker shows names.
std::string FamiliarName(const std::string& normalized);

class ImageService {
 public:
  // events: where pull, untag and delete are told (none when null).
  explicit ImageService(RuntimedClient& runtimed, EventLog* events = nullptr)
      : runtimed_(runtimed), events_(events) {}

  // Pulls reference ("busybox", "127.0.0.1:5000/x:1"), sending Docker's JSON
  // progress messages to emit. Errors found before the first message are
  // returned; later ones are sent as an errorDetail message and returned too.
  // auth: the client's X-Registry-Auth (base64url JSON with username and
  // password, as the docker CLI sends it), or "".
  absl::Status Pull(const std::string& reference, const std::string& platform,
                    const std::string& auth,
                    const std::function<void(const nlohmann::json&)>& emit);

  // NotFound "No such image: <ref>" when nothing matches.
  absl::StatusOr<ResolvedImage> Resolve(const std::string& ref);

  absl::StatusOr<nlohmann::ordered_json> List(bool digests);
  absl::StatusOr<nlohmann::ordered_json> Inspect(const std::string& ref);
  // DELETE /images/{name}: untags a name, or removes every name of an id.
  absl::StatusOr<nlohmann::json> Remove(const std::string& ref, bool force,
                                        const std::function<bool(const std::string&)>& in_use);

 private:
  absl::StatusOr<nlohmann::json> Config(const std::string& digest);
  absl::StatusOr<std::vector<api::Image>> All();

  void Publish(Event e);

  RuntimedClient& runtimed_;
  EventLog* events_;
  std::mutex mu_;
  std::map<std::string, nlohmann::json> configs_;  // by digest; content never changes
};

}  // namespace berth::engine
