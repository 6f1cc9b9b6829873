// /containers/...: create, start, stop, restart, kill, wait, attach, remove,
// list, inspect, resize, pause, unpause, top and rename.
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "engine/daemon/container.h"
#include "engine/daemon/json_log_reader.h"
#include "engine/routes/attached_streams.h"
#include "engine/routes/detach_keys.h"
#include "engine/routes/routes.h"

namespace berth::engine {
namespace {

using http::Request;
using http::ResponseWriter;

// "t" (seconds) for stop and restart; absent: the container's own timeout.
absl::StatusOr<std::optional<int>> StopTimeout(const Request& r) {
  if (!r.HasQuery("t") || r.Query("t").empty()) return std::optional<int>();
  auto t = r.QueryInt("t", 0);
  if (!t.ok()) return t.status();
  return std::optional<int>(static_cast<int>(*t));
}

void Attach(Daemon& daemon, Request& r, ResponseWriter& w) {
  auto target = daemon.ForAttach(r.params["id"]);
  if (!target.ok()) return SendStatus(w, target.status());
  const bool want_stdin = r.QueryBool("stdin") && target->open_stdin;
  const bool want_stdout = r.QueryBool("stdout");
  const bool want_stderr = r.QueryBool("stderr");
  auto detach_keys = ParseDetachKeys(r.Query("detachKeys"));
  if (!detach_keys.ok()) return SendStatus(w, detach_keys.status());
  auto subscriber = target->hub->Subscribe();
  auto hijacked = w.Hijack(target->tty ? "application/vnd.docker.raw-stream"
                                       : "application/vnd.docker.multiplexed-stream");
  if (!hijacked.ok()) {
    target->hub->Unsubscribe(subscriber);
    LogWarn("attach {}: {}", target->id, hijacked.status().message());
    return;
  }
  AttachedStreams streams;
  streams.fd = hijacked->fd.Get();
  streams.buffered = std::move(hijacked->buffered);
  streams.tty = target->tty;
  streams.want_stdin = want_stdin;
  streams.want_stdout = want_stdout;
  streams.want_stderr = want_stderr;
  streams.detach_keys = *detach_keys;
  streams.close_stdin = target->stdin_once;
  streams.write_stdin = [&daemon, id = target->id](const std::string& data) {
    return daemon.WriteStdin(id, data);
  };
  streams.close_stdin_fn = [&daemon, id = target->id] { (void)daemon.CloseStdin(id); };
  PumpAttachedStreams(streams, *subscriber);
  target->hub->Unsubscribe(subscriber);
}

// Go's url.QueryEscape.
std::string QueryEscape(absl::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// logs --details: "k1=v1,k2=v2" of the line's attrs, in key order.
std::string LogDetails(const std::vector<std::pair<std::string, std::string>>& attrs) {
  std::string out;
  for (const auto& [k, v] : attrs) {
    if (!out.empty()) out += ',';
    absl::StrAppend(&out, QueryEscape(k), "=", QueryEscape(v));
  }
  return out;
}

void Logs(Daemon& daemon, Request& r, ResponseWriter& w) {
  const bool want_stdout = r.QueryBool("stdout");
  const bool want_stderr = r.QueryBool("stderr");
  if (!want_stdout && !want_stderr) {
    return w.SendError(400, "Bad parameters: you must choose at least one stream");
  }
  auto target = daemon.ForLogs(r.params["id"]);
  if (!target.ok()) return SendStatus(w, target.status());
  absl::Time since = absl::InfinitePast(), until = absl::InfiniteFuture();
  for (auto [key, bound] : {std::pair{"since", &since}, std::pair{"until", &until}}) {
    std::string text = r.Query(key);
    if (text.empty() || text == "0") continue;
    auto t = ParseUnixTimestamp(text);
    if (!t.ok()) return SendStatus(w, t.status());
    *bound = *t;
  }
  int64_t tail = -1;
  if (std::string text = r.Query("tail", "all"); text != "all" && !text.empty()) {
    auto n = r.QueryInt("tail", -1);
    if (!n.ok()) return SendStatus(w, n.status());
    tail = *n;
  }
  const bool timestamps = r.QueryBool("timestamps");
  const bool details = r.QueryBool("details");
  const bool follow = r.QueryBool("follow");
  // Whether it runs, asked before reading: a run that ends after this has
  // its whole output in the file once running turns false.
  bool running = follow && daemon.Running(target->id);
  JsonLogReader reader(target->log_path);
  // --tail reads the files backwards from their ends, not whole.
  auto messages = tail >= 0 ? reader.Tail(static_cast<size_t>(tail)) : reader.Next();
  if (!messages.ok()) return SendStatus(w, messages.status());
  w.BeginStream(200, target->tty ? "application/vnd.docker.raw-stream"
                                 : "application/vnd.docker.multiplexed-stream");
  auto send = [&](const std::vector<LogMessage>& batch, size_t from) {
    for (size_t i = from; i < batch.size(); ++i) {
      const LogMessage& m = batch[i];
      if (m.time < since || m.time > until) continue;
      if ((m.stream == StreamKind::kStdout && !want_stdout) ||
          (m.stream == StreamKind::kStderr && !want_stderr)) {
        continue;
      }
      // As dockerd's WriteLogStream: the timestamp, the attrs, the line.
      std::string text;
      if (timestamps) absl::StrAppend(&text, FormatDockerTime(m.time), " ");
      if (details) absl::StrAppend(&text, LogDetails(m.attrs), " ");
      text += m.text;
      if (!w.Write(target->tty ? text : Frame(m.stream, text))) return false;
    }
    return true;
  };
  size_t first = 0;
  if (tail >= 0 && static_cast<size_t>(tail) < messages->size()) {
    first = messages->size() - static_cast<size_t>(tail);
  }
  if (!send(*messages, first) || !running) return;
  while (absl::Now() < until) {
    bool still_running = daemon.Running(target->id);
    auto more = reader.Next();
    if (!more.ok() || !send(*more, 0)) return;
    if (!still_running) return;
    if (more->empty()) {
      if (w.ClientGone()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

void Wait(Daemon& daemon, Request& r, ResponseWriter& w) {
  std::string condition_text = r.Query("condition", "not-running");
  WaitCondition condition;
  if (condition_text == "not-running" || condition_text.empty()) {
    condition = WaitCondition::kNotRunning;
  } else if (condition_text == "next-exit") {
    condition = WaitCondition::kNextExit;
  } else if (condition_text == "removed") {
    condition = WaitCondition::kRemoved;
  } else {
    return w.SendError(400, absl::StrCat("invalid condition: \"", condition_text, "\""));
  }
  // Resolve first, so an unknown container is a 404 rather than a stream.
  if (auto inspect = daemon.Inspect(r.params["id"]); !inspect.ok()) {
    return SendStatus(w, inspect.status());
  }
  w.BeginStream(200, "application/json");
  auto result = daemon.Wait(r.params["id"], condition, [&] { return w.ClientGone(); });
  if (!result.ok()) {
    if (result.status().code() != absl::StatusCode::kCancelled) {
      w.Write(nlohmann::json{{"StatusCode", -1},
                             {"Error", {{"Message", std::string(result.status().message())}}}}
                  .dump() +
              "\n");
    }
    return;
  }
  nlohmann::json body = {{"StatusCode", result->status_code}, {"Error", nullptr}};
  if (!result->error.empty()) body["Error"] = {{"Message", result->error}};
  w.Write(body.dump() + "\n");
}

}  // namespace

void AddContainerRoutes(http::Router& router, Daemon& daemon) {
  router.Add("POST", "/containers/create", [&](Request& r, ResponseWriter& w) {
    auto body = ParseBody(r);
    if (!body.ok()) return SendStatus(w, body.status());
    auto id = daemon.Create(r.Query("name"), *body);
    if (!id.ok()) return SendStatus(w, id.status());
    w.SendJson(201, nlohmann::ordered_json{{"Id", *id}, {"Warnings", nlohmann::json::array()}});
  });
  router.Add("GET", "/containers/json", [&](Request& r, ResponseWriter& w) {
    auto limit = r.QueryInt("limit", -1);
    if (!limit.ok()) return SendStatus(w, limit.status());
    nlohmann::json filters;
    if (std::string f = r.Query("filters"); !f.empty()) {
      filters = nlohmann::json::parse(f, nullptr, false);
      if (!filters.is_object()) return w.SendError(400, "invalid filter: not a JSON object");
    }
    auto list = daemon.List(r.QueryBool("all"), static_cast<int>(*limit), filters);
    if (!list.ok()) return SendStatus(w, list.status());
    w.SendJson(200, *list);
  });
  router.Add("GET", "/containers/{id}/json", [&](Request& r, ResponseWriter& w) {
    auto inspect = daemon.Inspect(r.params["id"]);
    if (!inspect.ok()) return SendStatus(w, inspect.status());
    w.SendJson(200, *inspect);
  });
  router.Add("POST", "/containers/{id}/start", [&](Request& r, ResponseWriter& w) {
    auto started = daemon.StartContainer(r.params["id"]);
    if (!started.ok()) return SendStatus(w, started.status());
    w.SendNoContent(*started ? 204 : 304);
  });
  router.Add("POST", "/containers/{id}/stop", [&](Request& r, ResponseWriter& w) {
    auto timeout = StopTimeout(r);
    if (!timeout.ok()) return SendStatus(w, timeout.status());
    auto stopped = daemon.Stop(r.params["id"], *timeout);
    if (!stopped.ok()) return SendStatus(w, stopped.status());
    w.SendNoContent(*stopped ? 204 : 304);
  });
  router.Add("POST", "/containers/{id}/restart", [&](Request& r, ResponseWriter& w) {
    auto timeout = StopTimeout(r);
    if (!timeout.ok()) return SendStatus(w, timeout.status());
    absl::Status st = daemon.Restart(r.params["id"], *timeout);
    if (!st.ok()) return SendStatus(w, st);
    w.SendNoContent(204);
  });
  router.Add("POST", "/containers/{id}/kill", [&](Request& r, ResponseWriter& w) {
    absl::Status st = daemon.Kill(r.params["id"], r.Query("signal"));
    if (!st.ok()) return SendStatus(w, st);
    w.SendNoContent(204);
  });
  router.Add("POST", "/containers/{id}/wait",
             [&](Request& r, ResponseWriter& w) { Wait(daemon, r, w); });
  router.Add("GET", "/containers/{id}/logs",
             [&](Request& r, ResponseWriter& w) { Logs(daemon, r, w); });
  router.Add("POST", "/containers/{id}/attach",
             [&](Request& r, ResponseWriter& w) { Attach(daemon, r, w); });
  router.Add("POST", "/containers/{id}/resize", [&](Request& r, ResponseWriter& w) {
    auto size = ResizeQuery(r);
    if (!size.ok()) return SendStatus(w, size.status());
    absl::Status st = daemon.Resize(r.params["id"], size->first, size->second);
    if (!st.ok()) return SendStatus(w, st);
    w.Send(200, "text/plain", "");
  });
  router.Add("POST", "/containers/{id}/pause", [&](Request& r, ResponseWriter& w) {
    absl::Status st = daemon.Pause(r.params["id"]);
    if (!st.ok()) return SendStatus(w, st);
    w.SendNoContent(204);
  });
  router.Add("POST", "/containers/{id}/unpause", [&](Request& r, ResponseWriter& w) {
    absl::Status st = daemon.Unpause(r.params["id"]);
    if (!st.ok()) return SendStatus(w, st);
    w.SendNoContent(204);
  });
  router.Add("GET", "/containers/{id}/top", [&](Request& r, ResponseWriter& w) {
    auto top = daemon.Top(r.params["id"], r.Query("ps_args"));
    if (!top.ok()) return SendStatus(w, top.status());
    w.SendJson(200, *top);
  });
  router.Add("POST", "/containers/{id}/rename", [&](Request& r, ResponseWriter& w) {
    absl::Status st = daemon.Rename(r.params["id"], r.Query("name"));
    if (!st.ok()) return SendStatus(w, st);
    w.SendNoContent(204);
  });
  router.Add("DELETE", "/containers/{id}", [&](Request& r, ResponseWriter& w) {
    absl::Status st = daemon.Remove(r.params["id"], r.QueryBool("force"));
    if (!st.ok()) return SendStatus(w, st);
    w.SendNoContent(204);
  });
}

}  // namespace berth::engine
