// docker exec: POST /containers/{id}/exec, POST /exec/{id}/start (hijacked
// like attach unless detached), GET /exec/{id}/json, POST /exec/{id}/resize.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "common/log.h"
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
  const bool want_stdin = (*ex)->attach_stdin;
  std::thread input;
  if (want_stdin) {
    input = std::thread([&daemon, exec = *ex, fd, buffered = hijacked->buffered] {
      if (!buffered.empty()) (void)daemon.WriteExecStdin(*exec, buffered);
      char buffer[32 << 10];
      for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (!daemon.WriteExecStdin(*exec, std::string(buffer, static_cast<size_t>(n))).ok()) {
          break;
        }
      }
      (void)daemon.CloseExecStdin(*exec);
    });
  }
  for (;;) {
    OutputSubscriber::Chunk chunk;
    auto next = subscriber->Pop(chunk, absl::Milliseconds(250));
    if (next == OutputSubscriber::Next::kEnd) break;
    if (next == OutputSubscriber::Next::kTimeout) {
      if (!want_stdin) {
        // Gone when it closed the connection, not when it only shut its
        // writing side (docker 20.10 does that without stdin).
        pollfd p{fd, 0, 0};
        if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)) != 0) break;
      }
      continue;
    }
    if ((chunk.stream == StreamKind::kStdout && !(*ex)->attach_stdout) ||
        (chunk.stream == StreamKind::kStderr && !(*ex)->attach_stderr)) {
      continue;
    }
    if (!WriteAll(fd, tty ? chunk.data : Frame(chunk.stream, chunk.data))) break;
  }
  (*ex)->hub->Unsubscribe(subscriber);
  ::shutdown(fd, SHUT_RDWR);
  if (input.joinable()) input.join();
}

}  // namespace

void AddExecRoutes(http::Router& router, Daemon& daemon) {
  router.Add("POST", "/containers/{id}/exec", [&](Request& r, ResponseWriter& w) {
    auto body = ParseBody(r);
    if (!body.ok()) return SendStatus(w, body.status());
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
