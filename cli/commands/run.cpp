// docker run, docker create, docker start.
#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "absl/strings/match.h"
#include "cli/attach.h"
#include "cli/command.h"
#include "cli/commands/container_opts.h"
#include "cli/reference.h"

namespace berth::cli {

namespace {

using Json = nlohmann::ordered_json;

// runStartContainerErr: 127 for a command not found, 126 for one that cannot
// be executed, 125 for any other daemon error.
int StartErrorCode(std::string_view m) {
  absl::string_view msg(m.data(), m.size());
  if (absl::StrContains(msg, "executable file not found") ||
      absl::StrContains(msg, "no such file or directory") ||
      absl::StrContains(msg, "system cannot find the file specified")) {
    return 127;
  }
  if (absl::StrContains(msg, "permission denied") || absl::StrContains(msg, "is a directory")) {
    return 126;
  }
  return 125;
}

std::string Msg(const absl::Status& st) { return std::string(st.message()); }

// create (pulling the image when missing, per --pull); returns the id.
absl::StatusOr<std::string> CreateContainer(ApiClient* client, const ContainerOptions& o,
                                            const Json& body) {
  std::optional<ImageRef> ref;
  if (auto r = ParseNormalizedNamed(o.image); r.ok()) ref = r->WithDefaultTag();
  auto pull = [&]() -> absl::Status { return PullImage(client, o.image, STDERR_FILENO, o.quiet); };
  if (o.pull == "always") {
    if (absl::Status st = pull(); !st.ok()) return st;
  }
  Query q;
  if (!o.name.empty()) q.push_back({"name", o.name});
  if (!o.platform.empty()) q.push_back({"platform", o.platform});
  auto resp = client->DoJson("POST", "/containers/create", q, body);
  if (!resp.ok()) {
    if (resp.status().code() == absl::StatusCode::kNotFound && ref.has_value() &&
        o.pull == "missing") {
      if (!o.quiet) {
        CliContext::Err("Unable to find image '" + ref->FamiliarString() + "' locally\n");
      }
      if (absl::Status st = pull(); !st.ok()) return st;
      resp = client->DoJson("POST", "/containers/create", q, body);
    }
    if (!resp.ok()) return resp.status();
  }
  if (resp->contains("Warnings") && (*resp)["Warnings"].is_array()) {
    for (const auto& w : (*resp)["Warnings"]) {
      if (w.is_string()) CliContext::Err("WARNING: " + w.get<std::string>() + "\n");
    }
  }
  if (!resp->contains("Id") || !(*resp)["Id"].is_string()) {
    return absl::InternalError("the daemon's create response has no Id");
  }
  return (*resp)["Id"].get<std::string>();
}

// Waits for the result of POST /containers/{id}/wait: the exit code, or 125.
int WaitResult(PendingResponse* wait) {
  if (wait == nullptr) return 125;
  auto resp = wait->Get();
  if (!resp.ok()) {
    CliContext::Err("error waiting for container: " + Msg(resp.status()) + "\n");
    return 125;
  }
  auto j = Json::parse(resp->body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return 125;
  if (j.contains("Error") && j["Error"].is_object() && j["Error"].contains("Message") &&
      j["Error"]["Message"].is_string() && !j["Error"]["Message"].get<std::string>().empty()) {
    CliContext::Err("Error waiting for container: " + j["Error"]["Message"].get<std::string>() +
                    "\n");
    return 125;
  }
  if (j.contains("StatusCode") && j["StatusCode"].is_number()) {
    return static_cast<int>(j["StatusCode"].get<int64_t>());
  }
  return 125;
}

// Sends the wait before the start, as docker does, and gives the daemon a
// moment to register the waiter (dockerd answers the headers at once).
std::unique_ptr<PendingResponse> SendWait(ApiClient* client, const std::string& id,
                                          const std::string& condition) {
  auto wait = client->Send("POST", "/containers/" + id + "/wait", {{"condition", condition}});
  if (!wait.ok()) {
    CliContext::Err("error waiting for container: " + Msg(wait.status()) + "\n");
    return nullptr;
  }
  (*wait)->WaitReadable(1000);
  return std::move(*wait);
}

int RunContainer(CliContext& ctx, CLI::App* app, ContainerOptions& o) {
  if (o.image.empty()) {
    CliContext::Err(
        "\"berth run\" requires at least 1 argument.\nSee 'berth run --help'.\n\nUsage:  berth "
        "run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nCreate and run a new container from an image\n");
    return 1;
  }
  RecordChangedFlags(app, &o);
  if (absl::Status st = ValidatePullOption(o.pull); !st.ok()) {
    ReportRunError("run", Msg(st), true);
    return 125;
  }
  auto body = BuildCreateBody(o);
  if (!body.ok()) {
    ReportRunError("run", Msg(body.status()), true);
    return 125;
  }
  auto client = ctx.Client();
  if (!client.ok()) return ReportError(client.status());
  ApiClient* c = *client;
  if (o.tty && !o.detach && CliContext::StdoutIsTerminal()) {
    winsize ws{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) {
      (*body)["HostConfig"]["ConsoleSize"] = Json::array({ws.ws_row, ws.ws_col});
    }
  }
  const Json& config = *body;
  bool attach_stdin = config["AttachStdin"].get<bool>();
  bool attach_stdout = config["AttachStdout"].get<bool>();
  bool attach_stderr = config["AttachStderr"].get<bool>();
  bool tty = o.tty;
  if (!o.detach) {
    if (attach_stdin && tty && !CliContext::StdinIsTerminal()) {
      CliContext::Err("the input device is not a TTY\n");
      return 1;
    }
  } else if (!o.attach.empty()) {
    CliContext::Err("Conflicting options: -a and -d\n");
    return 1;
  }

  auto id = CreateContainer(c, o, config);
  if (!id.ok()) {
    ReportRunError("run", Msg(id.status()), true);
    return StartErrorCode(Msg(id.status()));
  }
  if (!attach_stdout && !attach_stderr) CliContext::Out(*id + "\n");

  std::string detach_keys;
  if (!o.detach_keys.empty()) {
    auto k = ParseDetachKeys(o.detach_keys);
    if (!k.ok()) {
      ReportRunError("run", Msg(k.status()), false);
      return 125;
    }
    detach_keys = *k;
  }
  bool attach = attach_stdin || attach_stdout || attach_stderr;
  std::optional<SignalForwarder> signals;
  if (!o.detach) signals.emplace(c, *id, o.sig_proxy && !tty, tty);
  std::optional<RawTerminal> raw;
  std::optional<Hijacked> conn;
  if (attach) {
    Query q{{"stream", "1"}};
    if (attach_stdin) q.push_back({"stdin", "1"});
    if (attach_stdout) q.push_back({"stdout", "1"});
    if (attach_stderr) q.push_back({"stderr", "1"});
    if (!o.detach_keys.empty()) q.push_back({"detachKeys", o.detach_keys});
    auto h = c->Hijack("/containers/" + *id + "/attach", q);
    if (!h.ok()) return ReportError(h.status());
    conn = std::move(*h);
    if (tty && attach_stdin && CliContext::StdinIsTerminal()) raw.emplace();
  }
  std::unique_ptr<PendingResponse> wait;
  if (!o.detach) wait = SendWait(c, *id, o.rm ? "removed" : "next-exit");

  auto started = c->Do("POST", "/containers/" + *id + "/start");
  if (!started.ok()) {
    raw.reset();
    ReportRunError("run", Msg(started.status()), false);
    if (o.rm && wait) WaitResult(wait.get());
    return StartErrorCode(Msg(started.status()));
  }
  if (o.detach) return 0;
  if (tty && CliContext::StdoutIsTerminal() && signals) signals->Resize();
  if (conn) {
    StreamOptions so{tty, attach_stdin, attach_stdout, attach_stderr, detach_keys};
    bool detached = false;
    absl::Status st = PumpAttachedStreams(std::move(*conn), so, &detached);
    raw.reset();
    if (!st.ok()) return ReportError(st);
    // The detach sequence: the container keeps running; docker run exits 0.
    if (detached) return 0;
  }
  raw.reset();
  if (!attach_stdout && !attach_stderr) return 0;
  return WaitResult(wait.get());
}

int CreateCommand(CliContext& ctx, CLI::App* app, ContainerOptions& o) {
  if (o.image.empty()) {
    CliContext::Err(
        "\"berth create\" requires at least 1 argument.\nSee 'berth create --help'.\n\nUsage:  "
        "berth create [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nCreate a new container\n");
    return 1;
  }
  RecordChangedFlags(app, &o);
  if (absl::Status st = ValidatePullOption(o.pull); !st.ok()) {
    ReportRunError("create", Msg(st), true);
    return 125;
  }
  auto body = BuildCreateBody(o);
  if (!body.ok()) {
    ReportRunError("create", Msg(body.status()), true);
    return 125;
  }
  auto client = ctx.Client();
  if (!client.ok()) return ReportError(client.status());
  auto id = CreateContainer(*client, o, *body);
  if (!id.ok()) {
    ReportRunError("create", Msg(id.status()), true);
    return 125;
  }
  CliContext::Out(*id + "\n");
  return 0;
}

void SetImageAndArgs(ContainerOptions* o, std::vector<std::string> tail) {
  if (tail.empty()) return;
  o->image = tail[0];
  o->args.assign(tail.begin() + 1, tail.end());
}

struct StartOptions {
  bool attach = false;
  bool interactive = false;
  std::string detach_keys;
  std::vector<std::string> containers;
};

int StartCommand(CliContext& ctx, StartOptions& o) {
  auto client = ctx.Client();
  if (!client.ok()) return ReportError(client.status());
  ApiClient* c = *client;
  if (o.attach || o.interactive) {
    if (o.containers.size() > 1) {
      CliContext::Err("you cannot start and attach multiple containers at once\n");
      return 1;
    }
    const std::string& name = o.containers[0];
    auto info = c->DoJson("GET", "/containers/" + name + "/json");
    if (!info.ok()) return ReportError(info.status());
    std::string id = (*info)["Id"].get<std::string>();
    bool tty = (*info)["Config"]["Tty"].get<bool>();
    bool open_stdin = (*info)["Config"]["OpenStdin"].get<bool>();
    bool attach_stdin = o.interactive && open_stdin;
    if (attach_stdin && tty && !CliContext::StdinIsTerminal()) {
      CliContext::Err("the input device is not a TTY\n");
      return 1;
    }
    SignalForwarder signals(c, id, !tty, tty);
    Query q{{"stream", "1"}, {"stdout", "1"}, {"stderr", "1"}};
    if (attach_stdin) q.push_back({"stdin", "1"});
    if (!o.detach_keys.empty()) q.push_back({"detachKeys", o.detach_keys});
    auto h = c->Hijack("/containers/" + id + "/attach", q);
    if (!h.ok()) return ReportError(h.status());
    std::optional<RawTerminal> raw;
    if (tty && attach_stdin && CliContext::StdinIsTerminal()) raw.emplace();
    auto wait = SendWait(c, id, "next-exit");
    auto started = c->Do("POST", "/containers/" + id + "/start");
    if (!started.ok()) {
      raw.reset();
      return ReportError(started.status());
    }
    if (tty && CliContext::StdoutIsTerminal()) signals.Resize();
    std::string keys;
    if (!o.detach_keys.empty()) {
      auto k = ParseDetachKeys(o.detach_keys);
      if (k.ok()) keys = *k;
    }
    bool detached = false;
    absl::Status st = PumpAttachedStreams(
        std::move(*h), StreamOptions{tty, attach_stdin, true, true, keys}, &detached);
    raw.reset();
    if (!st.ok()) return ReportError(st);
    if (detached) return 0;
    return WaitResult(wait.get());
  }
  std::vector<std::string> failed;
  for (const auto& name : o.containers) {
    auto r = c->Do("POST", "/containers/" + name + "/start");
    if (!r.ok()) {
      CliContext::Err(Msg(r.status()) + "\n");
      failed.push_back(name);
      continue;
    }
    CliContext::Out(name + "\n");
  }
  if (!failed.empty()) {
    std::string list;
    for (const auto& f : failed) list += (list.empty() ? "" : ", ") + f;
    CliContext::Err("Error: failed to start containers: " + list + "\n");
    return 1;
  }
  return 0;
}

}  // namespace

void ReportRunError(const std::string& cmd, std::string_view msg, bool with_help) {
  std::string s(msg);
  while (!s.empty() && s.back() == '.') s.pop_back();
  s += ".";
  if (with_help) s += "\nSee 'berth " + cmd + " --help'.";
  CliContext::Err("berth: " + s + "\n");
}

void RegisterRunCommands(CLI::App& root, Registry& reg) {
  {
    auto* o = new ContainerOptions();
    CLI::App* cmd = root.add_subcommand("run", "Create and run a new container from an image");
    cmd->set_help_flag("--help", "Print usage");
    AddContainerFlags(cmd, o, true);
    CommandSpec spec{cmd, "run", "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
                     "Create and run a new container from an image",
                     [cmd, o](CliContext& ctx) { return RunContainer(ctx, cmd, *o); }};
    spec.set_tail = [o](std::vector<std::string> tail) { SetImageAndArgs(o, std::move(tail)); };
    reg.push_back(spec);
  }
  {
    auto* o = new ContainerOptions();
    CLI::App* cmd = root.add_subcommand("create", "Create a new container");
    cmd->set_help_flag("--help", "Print usage");
    AddContainerFlags(cmd, o, false);
    CommandSpec spec{cmd, "create", "create [OPTIONS] IMAGE [COMMAND] [ARG...]",
                     "Create a new container",
                     [cmd, o](CliContext& ctx) { return CreateCommand(ctx, cmd, *o); }};
    spec.set_tail = [o](std::vector<std::string> tail) { SetImageAndArgs(o, std::move(tail)); };
    reg.push_back(spec);
  }
  {
    auto* o = new StartOptions();
    CLI::App* cmd = root.add_subcommand("start", "Start one or more stopped containers");
    cmd->add_flag("-a,--attach", o->attach, "Attach STDOUT/STDERR and forward signals");
    cmd->add_flag("-i,--interactive", o->interactive, "Attach container's STDIN");
    cmd->add_option("--detach-keys", o->detach_keys,
                    "Override the key sequence for detaching a container");
    cmd->add_option("containers", o->containers);
    CommandSpec spec{cmd, "start", "start [OPTIONS] CONTAINER [CONTAINER...]",
                     "Start one or more stopped containers",
                     [o](CliContext& ctx) { return StartCommand(ctx, *o); }};
    spec.args = &o->containers;
    spec.min_args = 1;
    reg.push_back(spec);
  }
}

}  // namespace berth::cli
