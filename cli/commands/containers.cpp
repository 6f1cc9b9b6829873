// docker logs, attach, exec, top, pause, unpause, rename, stats, events.
#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <thread>

#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "cli/attach.h"
#include "cli/command.h"
#include "cli/commands/container_opts.h"
#include "cli/format/table_writer.h"
#include "cli/formatter.h"
#include "cli/stats_events.h"
#include "cli/stream.h"
#include "cli/time_opts.h"

namespace berth::cli {

// In ps.cpp: -f key=value (repeated) -> the filters JSON.
absl::StatusOr<std::string> FiltersJson(const std::vector<std::string>& filters);
int FilterFlagError(const std::string& cmd, const std::vector<std::string>& filters,
                    const absl::Status& st);

namespace {

// --since/--until (logs, events) as the API's query values.
absl::Status AddTimeRange(Query& q, const std::string& since, const std::string& until) {
  const absl::Time now = absl::Now();
  for (const auto& [key, value] : {std::pair{"since", &since}, std::pair{"until", &until}}) {
    if (value->empty()) continue;
    auto ts = GetTimestamp(*value, now);
    if (!ts.ok()) return ts.status();
    q.push_back({key, *ts});
  }
  return absl::OkStatus();
}

using Json = nlohmann::ordered_json;

std::string Msg(const absl::Status& st) { return std::string(st.message()); }

bool JBool(const Json& j, const char* a, const char* b) {
  return j.contains(a) && j[a].is_object() && j[a].contains(b) && j[a][b].is_boolean() &&
         j[a][b].get<bool>();
}

// Waits for the result of a POST /containers/{id}/wait sent earlier: the
// exit code, or 125 (as run's).
int WaitExit(PendingResponse* wait) {
  if (wait == nullptr) return 125;
  auto resp = wait->Get();
  if (!resp.ok()) return ReportError(resp.status());
  auto j = Json::parse(resp->body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return 125;
  if (j.contains("Error") && j["Error"].is_object() && j["Error"].value("Message", "") != "") {
    CliContext::Err(j["Error"]["Message"].get<std::string>() + "\n");
    return 1;
  }
  if (j.contains("StatusCode") && j["StatusCode"].is_number())
    return static_cast<int>(j["StatusCode"].get<int64_t>());
  return 125;
}

// The terminal's size on stdout, or nullopt.
std::optional<std::pair<int, int>> TtySize() {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
    return std::make_pair(static_cast<int>(ws.ws_row), static_cast<int>(ws.ws_col));
  return std::nullopt;
}

// GET /containers/{name}/json; a 404 is the client's "Error: No such
// container: NAME" (docker's objectNotFoundError), as docker logs/exec/attach say.
absl::StatusOr<Json> InspectContainer(ApiClient* c, const std::string& name) {
  auto info = c->DoJson("GET", "/containers/" + name + "/json");
  if (!info.ok() && info.status().code() == absl::StatusCode::kNotFound)
    return absl::NotFoundError("Error: No such container: " + name);
  return info;
}

// ---- logs ----------------------------------------------------------------------------

struct LogsOptions {
  bool follow = false;
  bool timestamps = false;
  bool details = false;
  std::string since, until;
  std::string tail = "all";
  std::vector<std::string> containers;
};

int Logs(CliContext& ctx, const LogsOptions& o) {
  auto client = ctx.Client();
  if (!client.ok()) return ReportError(client.status());
  ApiClient* c = *client;
  const std::string& name = o.containers[0];
  auto info = InspectContainer(c, name);
  if (!info.ok()) return ReportError(info.status());
  bool tty = JBool(*info, "Config", "Tty");
  Query q{{"stdout", "1"}, {"stderr", "1"}};
  if (absl::Status st = AddTimeRange(q, o.since, o.until); !st.ok()) return ReportError(st);
  if (o.timestamps) q.push_back({"timestamps", "1"});
  if (o.follow) q.push_back({"follow", "1"});
  q.push_back({"tail", o.tail});
  if (o.details) q.push_back({"details", "1"});
  StreamDemuxer demux([](int stream, std::string_view data) {
    return WriteAll(stream == 2 ? STDERR_FILENO : STDOUT_FILENO, data);
  });
  absl::Status st = c->Stream("GET", "/containers/" + name + "/logs", q, std::nullopt,
                              [&](std::string_view data) -> absl::Status {
                                if (tty) return WriteAll(STDOUT_FILENO, data);
                                return demux.Feed(data);
                              });
  if (!st.ok()) return ReportError(st);
  return 0;
}

// ---- attach ----------------------------------------------------------------------------

struct AttachOptions {
  bool no_stdin = false;
  bool sig_proxy = true;
  std::string detach_keys;
  std::vector<std::string> containers;
};

// docker's client-side state check before (and right after) attaching.
absl::StatusOr<Json> InspectRunning(ApiClient* c, const std::string& name) {
  auto info = InspectContainer(c, name);
  if (!info.ok()) return info.status();
  if (!JBool(*info, "State", "Running"))
    return absl::FailedPreconditionError(
        "You cannot attach to a stopped container, start it first");
  if (JBool(*info, "State", "Paused"))
    return absl::FailedPreconditionError(
        "You cannot attach to a paused container, unpause it first");
  if (JBool(*info, "State", "Restarting"))
    return absl::FailedPreconditionError(
        "You cannot attach to a restarting container, wait until it is running");
  return *info;
}

int Attach(CliContext& ctx, const AttachOptions& o) {
  auto client = ctx.Client();
  if (!client.ok()) return ReportError(client.status());
  ApiClient* c = *client;
  const std::string& name = o.containers[0];
  auto info = InspectRunning(c, name);
  if (!info.ok()) return ReportError(info.status());
  std::string id = (*info)["Id"].get<std::string>();
  bool tty = JBool(*info, "Config", "Tty");
  if (!o.no_stdin && tty && !CliContext::StdinIsTerminal()) {
    CliContext::Err("the input device is not a TTY\n");
    return 1;
  }
  std::string keys;
  if (!o.detach_keys.empty()) {
    auto k = ParseDetachKeys(o.detach_keys);
    if (!k.ok()) return ReportError(k.status());
    keys = *k;
  }
  bool attach_stdin = !o.no_stdin && JBool(*info, "Config", "OpenStdin");
  auto wait = c->Send("POST", "/containers/" + id + "/wait");
  if (!wait.ok()) return ReportError(wait.status());
  SignalForwarder signals(c, id, o.sig_proxy && !tty, tty);
  Query q{{"stream", "1"}, {"stdout", "1"}, {"stderr", "1"}};
  if (attach_stdin) q.push_back({"stdin", "1"});
  if (!o.detach_keys.empty()) q.push_back({"detachKeys", o.detach_keys});
  auto h = c->Hijack("/containers/" + id + "/attach", q);
  if (!h.ok()) return ReportError(h.status());
  if (auto again = InspectRunning(c, id); !again.ok()) return ReportError(again.status());
  if (tty && CliContext::StdoutIsTerminal()) signals.Resize();
  bool detached = false;
  absl::Status st;
  {
    std::optional<RawTerminal> raw;
    if (tty && attach_stdin && CliContext::StdinIsTerminal()) raw.emplace();
    st = PumpAttachedStreams(std::move(*h), StreamOptions{tty, attach_stdin, true, true, keys},
                             &detached);
  }
  if (!st.ok()) return ReportError(st);
  // docker attach: the detach sequence ends it with term.EscapeError.
  if (detached) {
    CliContext::Err("read escape sequence\n");
    return 1;
  }
  return WaitExit(wait->get());
}

// ---- exec ------------------------------------------------------------------------------

struct ExecOptions {
  bool interactive = false;
  bool tty = false;
  bool detach = false;
  bool privileged = false;
  std::string user, workdir, detach_keys;
  std::vector<std::string> env, env_file;
  std::vector<std::string> tail;  // CONTAINER COMMAND [ARG...]
};

int Exec(CliContext& ctx, const ExecOptions& o) {
  Json env = Json::array();
  for (const auto& f : o.env_file) {
    auto lines = ReadEnvFile(f);
    if (!lines.ok()) return ReportError(lines.status());
    for (auto& l : *lines) env.push_back(l);
  }
  for (const auto& e : o.env) {
    if (e.empty() || e[0] == '=') {
      CliContext::Err("invalid argument \"" + e +
                      "\" for \"-e, --env\" flag: invalid environment variable: " + e +
                      "\nSee 'berth exec --help'.\n");
      return 125;
    }
    if (e.find('=') != std::string::npos) {
      env.push_back(e);
    } else if (const char* v = std::getenv(e.c_str())) {
      env.push_back(e + "=" + v);
    } else {
      env.push_back(e);
    }
  }
  std::string keys;
  if (!o.detach_keys.empty()) {
    auto k = ParseDetachKeys(o.detach_keys);
    if (!k.ok()) return ReportError(k.status());
    keys = *k;
  }
  auto client = ctx.Client();
  if (!client.ok()) return ReportError(client.status());
  ApiClient* c = *client;
  const std::string& name = o.tail[0];
  // A dummy inspect first: "No such container" before anything else.
  if (auto info = InspectContainer(c, name); !info.ok()) return ReportError(info.status());
  bool attach_stdin = !o.detach && o.interactive;
  if (!o.detach && attach_stdin && o.tty && !CliContext::StdinIsTerminal()) {
    CliContext::Err("the input device is not a TTY\n");
    return 1;
  }
  Json body = {{"User", o.user},
               {"Privileged", o.privileged},
               {"Tty", o.tty},
               {"AttachStdin", attach_stdin},
               {"AttachStderr", !o.detach},
               {"AttachStdout", !o.detach},
               {"DetachKeys", o.detach_keys},
               {"Env", env},
               {"WorkingDir", o.workdir},
               {"Cmd", Json(std::vector<std::string>(o.tail.begin() + 1, o.tail.end()))}};
  std::optional<std::pair<int, int>> size;
  if (o.tty) size = TtySize();
  bool console_size = size && CompareApiVersions(c->api_version(), "1.42") >= 0;
  if (console_size) body["ConsoleSize"] = Json::array({size->first, size->second});
  auto created = c->DoJson("POST", "/containers/" + name + "/exec", {}, body);
  if (!created.ok()) return ReportError(created.status());
  std::string exec_id = created->value("Id", "");
  if (exec_id.empty()) return ReportError(absl::InternalError("exec ID empty"));

  Json start = {{"Detach", o.detach}, {"Tty", o.tty}};
  if (console_size) start["ConsoleSize"] = Json::array({size->first, size->second});
  if (o.detach) {
    auto r = c->Do("POST", "/exec/" + exec_id + "/start", {}, start.dump());
    if (!r.ok()) return ReportError(r.status());
    return 0;
  }
  auto h = c->Hijack("/exec/" + exec_id + "/start", {}, start.dump());
  if (!h.ok()) return ReportError(h.status());
  bool detached = false;
  absl::Status st;
  {
    bool term = o.tty && CliContext::StdinIsTerminal();
    std::optional<SignalForwarder> signals;
    if (term) signals.emplace(c, exec_id, false, true, "/exec/" + exec_id + "/resize");
    std::optional<RawTerminal> raw;
    if (o.tty && attach_stdin && CliContext::StdinIsTerminal()) raw.emplace();
    if (signals) signals->Resize();
    st = PumpAttachedStreams(std::move(*h), StreamOptions{o.tty, attach_stdin, true, true, keys},
                             &detached);
  }
  if (!st.ok()) return ReportError(st);
  if (detached) {
    CliContext::Err("read escape sequence\n");
    return 1;
  }
  auto inspect = c->DoJson("GET", "/exec/" + exec_id + "/json");
  if (!inspect.ok()) return ReportError(inspect.status());
  if (inspect->contains("ExitCode") && (*inspect)["ExitCode"].is_number())
    return static_cast<int>((*inspect)["ExitCode"].get<int64_t>());
  return 0;
}

// ---- top, pause, unpause, rename ------------------------------------------------------

int Top(CliContext& ctx, const std::vector<std::string>& tail) {
  auto client = ctx.Client();
  if (!client.ok()) return ReportError(client.status());
  Query q;
  if (tail.size() > 1) q.push_back({"ps_args", absl::StrJoin(tail.begin() + 1, tail.end(), " ")});
  auto r = (*client)->DoJson("GET", "/containers/" + tail[0] + "/top", q);
  if (!r.ok()) return ReportError(r.status());
  TabWriter w(20, 1, 3, ' ');
  std::vector<std::string> titles;
  if (r->contains("Titles") && (*r)["Titles"].is_array()) {
    for (const auto& t : (*r)["Titles"])
      titles.push_back(t.is_string() ? t.get<std::string>() : "");
  }
  w.Write(absl::StrJoin(titles, "\t") + "\n");
  if (r->contains("Processes") && (*r)["Processes"].is_array()) {
    for (const auto& p : (*r)["Processes"]) {
      std::vector<std::string> cells;
      for (const auto& cell : p) cells.push_back(cell.is_string() ? cell.get<std::string>() : "");
      w.Write(absl::StrJoin(cells, "\t") + "\n");
    }
  }
  CliContext::Out(w.Flush());
  return 0;
}

int ForEachContainer(CliContext& ctx, const std::vector<std::string>& names,
                     const std::string& action) {
  auto client = ctx.Client();
  if (!client.ok()) return ReportError(client.status());
  bool failed = false;
  for (const auto& name : names) {
    auto r = (*client)->Do("POST", "/containers/" + name + "/" + action);
    if (!r.ok()) {
      CliContext::Err(Msg(r.status()) + "\n");
      failed = true;
      continue;
    }
    CliContext::Out(name + "\n");
  }
  return failed ? 1 : 0;
}

int Rename(CliContext& ctx, const std::vector<std::string>& names) {
  std::string from(absl::StripAsciiWhitespace(names[0]));
  std::string to(absl::StripAsciiWhitespace(names[1]));
  if (from.empty() || to.empty()) {
    CliContext::Err("Error: Neither old nor new names may be empty\n");
    return 1;
  }
  auto client = ctx.Client();
  if (!client.ok()) return ReportError(client.status());
  auto r = (*client)->Do("POST", "/containers/" + from + "/rename", {{"name", to}});
  if (!r.ok()) {
    CliContext::Err(Msg(r.status()) + "\nError: failed to rename container named " + from + "\n");
    return 1;
  }
  return 0;
}

// ---- stats ------------------------------------------------------------------------------

struct StatsOptions {
  bool all = false;
  bool no_stream = false;
  bool no_trunc = false;
  std::string format;
  std::vector<std::string> containers;
};

int Stats(CliContext& ctx, const StatsOptions& o) {
  auto client = ctx.Client();
  if (!client.ok()) return ReportError(client.status());
  ApiClient* c = *client;
  std::string format = StatsFormat(o.format);
  for (bool first = true;; first = false) {
    std::vector<std::string> names = o.containers;
    if (names.empty()) {
      Query q;
      if (o.all) q.push_back({"all", "1"});
      auto list = c->DoJson("GET", "/containers/json", q);
      if (!list.ok()) return ReportError(list.status());
      for (const auto& ct : *list) names.push_back(ct.value("Id", ""));
    }
    std::vector<FormatRow> rows;
    for (const auto& name : names) {
      auto s = c->DoJson("GET", "/containers/" + name + "/stats", {{"stream", "false"}});
      if (!s.ok()) return ReportError(s.status());
      StatsEntry e = ComputeStats(*s);
      if (e.id.empty()) e.id = name;
      rows.push_back(StatsRow(e, !o.no_trunc));
    }
    ListFormat lf{format, StatsHeader(), "*formatter.statsContext"};
    auto out = RenderList(lf, rows);
    if (!out.ok()) return ReportError(out.status());
    if (!o.no_stream && CliContext::StdoutIsTerminal()) CliContext::Out("\033[2J\033[H");
    CliContext::Out(*out);
    if (o.no_stream) return 0;
    (void)first;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

// ---- events -----------------------------------------------------------------------------

struct EventsOptions {
  std::string since, until, format;
  std::vector<std::string> filters;
};

int Events(CliContext& ctx, const EventsOptions& o) {
  std::optional<tmpl::Template> t;
  if (!o.format.empty()) {
    auto parsed = tmpl::Template::Parse(o.format == "json" ? "{{json .}}" : PreFormat(o.format));
    if (!parsed.ok()) {
      CliContext::Err(Msg(parsed.status()) + "\n");
      return 64;
    }
    t = std::move(*parsed);
  }
  Query q;
  if (absl::Status st = AddTimeRange(q, o.since, o.until); !st.ok()) return ReportError(st);
  if (!o.filters.empty()) {
    auto f = FiltersJson(o.filters);
    if (!f.ok()) return FilterFlagError("events", o.filters, f.status());
    q.push_back({"filters", *f});
  }
  auto client = ctx.Client();
  if (!client.ok()) return ReportError(client.status());
  std::string buf;
  absl::Status st = (*client)->Stream(
      "GET", "/events", q, std::nullopt, [&](std::string_view data) -> absl::Status {
        buf.append(data);
        size_t nl;
        while ((nl = buf.find('\n')) != std::string::npos) {
          std::string line = buf.substr(0, nl);
          buf.erase(0, nl + 1);
          if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
          auto ev = Json::parse(line, nullptr, false);
          if (ev.is_discarded()) return absl::InternalError("invalid event from the daemon");
          if (t) {
            std::string out;
            if (absl::Status s = t->Execute(ev, &out); !s.ok()) return s;
            CliContext::Out(out + "\n");
          } else {
            CliContext::Out(FormatEvent(ev));
          }
        }
        return absl::OkStatus();
      });
  if (!st.ok()) return ReportError(st);
  return 0;
}

}  // namespace

void RegisterContainerCommands(CLI::App& root, Registry& reg) {
  {
    auto* o = new LogsOptions();
    CLI::App* cmd = root.add_subcommand("logs", "Fetch the logs of a container");
    cmd->add_flag("--details", o->details, "Show extra details provided to logs");
    cmd->add_flag("-f,--follow", o->follow, "Follow log output");
    cmd->add_option("--since", o->since,
                    "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. "
                    "\"42m\" for 42 minutes)");
    cmd->add_option("-n,--tail", o->tail,
                    "Number of lines to show from the end of the logs (default \"all\")");
    cmd->add_flag("-t,--timestamps", o->timestamps, "Show timestamps");
    cmd->add_option("--until", o->until,
                    "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative "
                    "(e.g. \"42m\" for 42 minutes)");
    cmd->add_option("containers", o->containers);
    CommandSpec spec{cmd, "logs", "logs [OPTIONS] CONTAINER", "Fetch the logs of a container",
                     [o](CliContext& ctx) { return Logs(ctx, *o); }};
    spec.args = &o->containers;
    spec.min_args = 1;
    spec.max_args = 1;
    reg.push_back(spec);
  }
  {
    auto* o = new AttachOptions();
    CLI::App* cmd = root.add_subcommand(
        "attach", "Attach local standard input, output, and error streams to a running container");
    cmd->add_option("--detach-keys", o->detach_keys,
                    "Override the key sequence for detaching a container");
    cmd->add_flag("--no-stdin", o->no_stdin, "Do not attach STDIN");
    cmd->add_flag("--sig-proxy{true}", o->sig_proxy,
                  "Proxy all received signals to the process (default true)");
    cmd->add_option("containers", o->containers);
    CommandSpec spec{
        cmd, "attach", "attach [OPTIONS] CONTAINER",
        "Attach local standard input, output, and error streams to a running container",
        [o](CliContext& ctx) { return Attach(ctx, *o); }};
    spec.args = &o->containers;
    spec.min_args = 1;
    spec.max_args = 1;
    reg.push_back(spec);
  }
  {
    auto* o = new ExecOptions();
    CLI::App* cmd = root.add_subcommand("exec", "Execute a command in a running container");
    cmd->add_flag("-d,--detach", o->detach, "Detached mode: run command in the background");
    cmd->add_option("--detach-keys", o->detach_keys,
                    "Override the key sequence for detaching a container");
    cmd->add_option("-e,--env", o->env, "Set environment variables");
    cmd->add_option("--env-file", o->env_file, "Read in a file of environment variables");
    cmd->add_flag("-i,--interactive", o->interactive, "Keep STDIN open even if not attached");
    cmd->add_flag("--privileged", o->privileged, "Give extended privileges to the command");
    cmd->add_flag("-t,--tty", o->tty, "Allocate a pseudo-TTY");
    cmd->add_option("-u,--user", o->user, "Username or UID (format: \"<name|uid>[:<group|gid>]\")");
    cmd->add_option("-w,--workdir", o->workdir, "Working directory inside the container");
    CommandSpec spec{cmd, "exec", "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
                     "Execute a command in a running container",
                     [o](CliContext& ctx) { return Exec(ctx, *o); }};
    spec.args = &o->tail;
    spec.min_args = 2;
    spec.set_tail = [o](std::vector<std::string> tail) { o->tail = std::move(tail); };
    reg.push_back(spec);
  }
  {
    auto* tail = new std::vector<std::string>();
    CLI::App* cmd = root.add_subcommand("top", "Display the running processes of a container");
    CommandSpec spec{cmd, "top", "top CONTAINER [ps OPTIONS]",
                     "Display the running processes of a container",
                     [tail](CliContext& ctx) { return Top(ctx, *tail); }};
    spec.args = tail;
    spec.min_args = 1;
    spec.set_tail = [tail](std::vector<std::string> t) { *tail = std::move(t); };
    reg.push_back(spec);
  }
  for (const char* action : {"pause", "unpause"}) {
    auto* names = new std::vector<std::string>();
    std::string a = action;
    std::string desc = a == "pause" ? "Pause all processes within one or more containers"
                                    : "Unpause all processes within one or more containers";
    CLI::App* cmd = root.add_subcommand(a, desc);
    cmd->add_option("containers", *names);
    CommandSpec spec{cmd, a, a + " CONTAINER [CONTAINER...]", desc,
                     [names, a](CliContext& ctx) { return ForEachContainer(ctx, *names, a); }};
    spec.args = names;
    spec.min_args = 1;
    reg.push_back(spec);
  }
  {
    auto* names = new std::vector<std::string>();
    CLI::App* cmd = root.add_subcommand("rename", "Rename a container");
    cmd->add_option("names", *names);
    CommandSpec spec{cmd, "rename", "rename CONTAINER NEW_NAME", "Rename a container",
                     [names](CliContext& ctx) { return Rename(ctx, *names); }};
    spec.args = names;
    spec.min_args = 2;
    spec.max_args = 2;
    reg.push_back(spec);
  }
  {
    auto* o = new StatsOptions();
    CLI::App* cmd = root.add_subcommand(
        "stats", "Display a live stream of container(s) resource usage statistics");
    cmd->add_flag("-a,--all", o->all, "Show all containers (default shows just running)");
    cmd->add_option("--format", o->format, "Pretty-print images using a Go template");
    cmd->add_flag("--no-stream", o->no_stream,
                  "Disable streaming stats and only pull the first result");
    cmd->add_flag("--no-trunc", o->no_trunc, "Do not truncate output");
    cmd->add_option("containers", o->containers);
    CommandSpec spec{cmd, "stats", "stats [OPTIONS] [CONTAINER...]",
                     "Display a live stream of container(s) resource usage statistics",
                     [o](CliContext& ctx) { return Stats(ctx, *o); }};
    spec.args = &o->containers;
    reg.push_back(spec);
  }
  {
    auto* o = new EventsOptions();
    CLI::App* cmd = root.add_subcommand("events", "Get real time events from the server");
    cmd->add_option("-f,--filter", o->filters, "Filter output based on conditions provided");
    cmd->add_option("--format", o->format, "Format the output using the given Go template");
    cmd->add_option("--since", o->since, "Show all events created since timestamp");
    cmd->add_option("--until", o->until, "Stream events until this timestamp");
    CommandSpec spec{cmd, "events", "events [OPTIONS]", "Get real time events from the server",
                     [o](CliContext& ctx) { return Events(ctx, *o); }};
    spec.max_args = 0;
    reg.push_back(spec);
  }
}

}  // namespace berth::cli
