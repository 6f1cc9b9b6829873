// /images/...: pull (create), list, inspect, remove.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/routes/routes.h"

namespace berth::engine {
namespace {

using http::Request;
using http::ResponseWriter;

// fromImage + tag as the docker CLI sends them ("busybox" + "latest",
// "busybox" + "sha256:…", or a tag already in fromImage).
std::string PullReference(const Request& r) {
  std::string image = r.Query("fromImage");
  std::string tag = r.Query("tag");
  if (tag.empty()) return image;
  if (absl::StartsWith(tag, "sha256:")) return absl::StrCat(image, "@", tag);
  size_t slash = image.rfind('/');
  size_t colon = image.rfind(':');
  bool has_tag = colon != std::string::npos && (slash == std::string::npos || colon > slash);
  return has_tag || absl::StrContains(image, "@") ? image : absl::StrCat(image, ":", tag);
}

void Pull(Daemon& daemon, Request& r, ResponseWriter& w) {
  if (!r.Query("fromSrc").empty()) {
    return w.SendError(501, "importing an image (fromSrc) is not supported by berthd");
  }
  std::string reference = PullReference(r);
  if (reference.empty()) return w.SendError(400, "fromImage must be set to pull an image");
  bool streaming = false;
  absl::Status st =
      daemon.images().Pull(reference, r.Query("platform"), r.Header("X-Registry-Auth"),
                           [&](const nlohmann::json& message) {
                             if (!streaming) {
                               w.BeginStream(200, "application/json");
                               streaming = true;
                             }
                             w.Write(message.dump() + "\r\n");
                           });
  if (!st.ok() && !streaming) SendStatus(w, st);
}

}  // namespace

void AddImageRoutes(http::Router& router, Daemon& daemon) {
  router.Add("POST", "/images/create", [&](Request& r, ResponseWriter& w) { Pull(daemon, r, w); });
  router.Add("GET", "/images/json", [&](Request& r, ResponseWriter& w) {
    auto list = daemon.images().List(r.QueryBool("digests"));
    if (!list.ok()) return SendStatus(w, list.status());
    w.SendJson(200, *list);
  });
  router.Add("GET", "/images/{name:.*}/json", [&](Request& r, ResponseWriter& w) {
    auto inspect = daemon.images().Inspect(r.params["name"]);
    if (!inspect.ok()) return SendStatus(w, inspect.status());
    w.SendJson(200, *inspect);
  });
  router.Add("DELETE", "/images/{name:.*}", [&](Request& r, ResponseWriter& w) {
    auto removed =
        daemon.images().Remove(r.params["name"], r.QueryBool("force"),
                               [&](const std::string& id) { return daemon.ImageInUse(id); });
    if (!removed.ok()) return SendStatus(w, removed.status());
    w.SendJson(200, *removed);
  });
}

}  // namespace berth::engine
