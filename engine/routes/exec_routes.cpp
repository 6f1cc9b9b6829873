// docker exec: POST /containers/{id}/exec, POST /exec/{id}/start (hijacked
// like attach unless detached), GET /exec/{id}/json, POST /exec/{id}/resize.
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "engine/routes/attached_streams.h"
#include "engine/routes/detach_keys.h"
#include "engine/routes/routes.h"

namespace berth::engine {
namespace {

using http::Request;
using http::ResponseWriter;

void StartExec(Daemon& daemon, Request& r, ResponseWriter& w) {
  auto body = ParseBody(r);
  if (!body.ok()) return SendStatus(w, body.status());
  if (!body->is_null() && !body->is_object()) {
    return w.SendError(400, "json: cannot unmarshal into Go value of type types.ExecStartCheck");
  }
  auto ex = daemon.FindExec(r.params["id"]);
  if (!ex.ok()) return SendStatus(w, ex.status());
  const bool detach = body->is_object() && body->value("Detach", false);
  bool tty = (*ex)->tty;
  if (body->is_object() && body->contains("Tty") && (*body)["Tty"].is_boolean()) {
    tty = (*body)["Tty"].get<bool>();
  }
  if (absl::Status claimed = daemon.ClaimExec(**ex); !claimed.ok()) {
    return SendStatus(w, claimed);
  }
  if (detach) {
    absl::Status started = daemon.StartExec(*ex);
    if (!started.ok()) return SendStatus(w, started);
    return w.Send(200, "application/json", "");
  }
  auto subscriber = (*ex)->hub->Subscribe();
  auto hijacked = w.Hijack(tty ? "application/vnd.docker.raw-stream"
                               : "application/vnd.docker.multiplexed-stream");
  if (!hijacked.ok()) {
    (*ex)->hub->Unsubscribe(subscriber);
    LogWarn("exec {}: {}", (*ex)->id, hijacked.status().message());
    return;
  }
  const int fd = hijacked->fd.Get();
  absl::Status started = daemon.StartExec(*ex);
  if (!started.ok()) {
    // As dockerd: the error goes to the client's stdout; the exit code is 126.
    std::string text = absl::StrCat(started.message(), "\r\n");
    (void)WriteAll(fd, tty ? text : Frame(StreamKind::kStdout, text));
    (*ex)->hub->Unsubscribe(subscriber);
    ::shutdown(fd, SHUT_RDWR);
    return;
  }
  // Keys that do not parse were refused when the exec was created.
  auto detach_keys = ParseDetachKeys((*ex)->detach_keys);
  AttachedStreams streams;
  streams.fd = fd;
  streams.buffered = std::move(hijacked->buffered);
  streams.tty = tty;
  streams.want_stdin = (*ex)->attach_stdin;
  streams.want_stdout = (*ex)->attach_stdout;
  streams.want_stderr = (*ex)->attach_stderr;
  streams.detach_keys = detach_keys.ok() ? *detach_keys : std::string();
  streams.close_stdin = true;
  streams.write_stdin = [&daemon, exec = *ex](const std::string& data) {
    return daemon.WriteExecStdin(*exec, data);
  };
  streams.close_stdin_fn = [&daemon, exec = *ex] { (void)daemon.CloseExecStdin(*exec); };
  PumpAttachedStreams(streams, *subscriber);
  (*ex)->hub->Unsubscribe(subscriber);
}

}  // namespace

void AddExecRoutes(http::Router& router, Daemon& daemon) {
  router.Add("POST", "/containers/{id}/exec", [&](Request& r, ResponseWriter& w) {
    auto body = ParseBody(r);
    if (!body.ok()) return SendStatus(w, body.status());
    if (body->is_object() && body->contains("DetachKeys") && (*body)["DetachKeys"].is_string()) {
      const std::string keys = (*body)["DetachKeys"].get<std::string>();
      if (!ParseDetachKeys(keys).ok()) {
        return w.SendError(400, absl::StrCat("Invalid escape keys (", keys, ") provided"));
      }
    }
    auto id = daemon.CreateExec(r.params["id"], *body);
    if (!id.ok()) return SendStatus(w, id.status());
    w.SendJson(201, nlohmann::ordered_json{{"Id", *id}});
  });
  router.Add("POST", "/exec/{id}/start",
             [&](Request& r, ResponseWriter& w) { StartExec(daemon, r, w); });
  router.Add("GET", "/exec/{id}/json", [&](Request& r, ResponseWriter& w) {
    auto ex = daemon.FindExec(r.params["id"]);
    if (!ex.ok()) return SendStatus(w, ex.status());
    w.SendJson(200, (*ex)->Inspect());
  });
  router.Add("POST", "/exec/{id}/resize", [&](Request& r, ResponseWriter& w) {
    auto size = ResizeQuery(r);
    if (!size.ok()) return SendStatus(w, size.status());
    absl::Status st = daemon.ResizeExec(r.params["id"], size->first, size->second);
    if (!st.ok()) return SendStatus(w, st);
    w.Send(200, "text/plain", "");
  });
}

}  // namespace berth::engine
