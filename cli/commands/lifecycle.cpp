// docker stop, restart, kill, rm, wait: one request per container, each
// name echoed as given on success, each error on stderr, exit 1 if any failed.
#include <CLI/CLI.hpp>

#include "cli/command.h"

namespace berth::cli {

namespace {

using Json = nlohmann::ordered_json;

struct Options {
  int time = 0;
  std::string signal;
  bool force = false;
  bool volumes = false;
  bool link = false;
  std::vector<std::string> containers;
  CLI::App* app = nullptr;
};

// Runs op on every container; prints what op returns on success.
int ForEach(CliContext& ctx, const std::vector<std::string>& containers,
            const std::function<absl::StatusOr<std::string>(ApiClient*, const std::string&)>& op) {
  auto client = ctx.Client();
  if (!client.ok()) return ReportError(client.status());
  bool failed = false;
  for (const auto& name : containers) {
    auto out = op(*client, name);
    if (!out.ok()) {
      CliContext::Err(std::string(out.status().message()) + "\n");
      failed = true;
      continue;
    }
    CliContext::Out(*out + "\n");
  }
  return failed ? 1 : 0;
}

}  // namespace

void RegisterLifecycleCommands(CLI::App& root, Registry& reg) {
  auto add = [&](const std::string& name, const std::string& usage, const std::string& desc,
                 Options* o, std::function<int(CliContext&)> run) {
    CommandSpec spec{o->app, name, usage, desc, std::move(run)};
    o->app->add_option("containers", o->containers);
    spec.args = &o->containers;
    spec.min_args = 1;
    reg.push_back(spec);
  };
  {
    auto* o = new Options();
    o->app = root.add_subcommand("stop", "Stop one or more running containers");
    o->app->add_option("-t,--time", o->time,
                       "Seconds to wait for stop before killing it (default 10)");
    o->app->add_option("-s,--signal", o->signal, "Signal to send to the container");
    add("stop", "stop [OPTIONS] CONTAINER [CONTAINER...]", "Stop one or more running containers", o,
        [o](CliContext& ctx) {
          Query q;
          if (o->app->count("--time") > 0) q.push_back({"t", std::to_string(o->time)});
          if (!o->signal.empty()) q.push_back({"signal", o->signal});
          return ForEach(ctx, o->containers,
                         [&](ApiClient* c, const std::string& name) -> absl::StatusOr<std::string> {
                           auto r = c->Do("POST", "/containers/" + name + "/stop", q);
                           if (!r.ok()) return r.status();
                           return name;
                         });
        });
  }
  {
    auto* o = new Options();
    o->app = root.add_subcommand("restart", "Restart one or more containers");
    o->app->add_option("-t,--time", o->time,
                       "Seconds to wait for stop before killing the container (default 10)");
    o->app->add_option("-s,--signal", o->signal, "Signal to send to the container");
    add("restart", "restart [OPTIONS] CONTAINER [CONTAINER...]", "Restart one or more containers",
        o, [o](CliContext& ctx) {
          Query q;
          if (o->app->count("--time") > 0) q.push_back({"t", std::to_string(o->time)});
          if (!o->signal.empty()) q.push_back({"signal", o->signal});
          return ForEach(ctx, o->containers,
                         [&](ApiClient* c, const std::string& name) -> absl::StatusOr<std::string> {
                           auto r = c->Do("POST", "/containers/" + name + "/restart", q);
                           if (!r.ok()) return r.status();
                           return name;
                         });
        });
  }
  {
    auto* o = new Options();
    o->app = root.add_subcommand("kill", "Kill one or more running containers");
    o->app->add_option("-s,--signal", o->signal, "Signal to send to the container");
    add("kill", "kill [OPTIONS] CONTAINER [CONTAINER...]", "Kill one or more running containers", o,
        [o](CliContext& ctx) {
          Query q;
          if (!o->signal.empty()) q.push_back({"signal", o->signal});
          return ForEach(ctx, o->containers,
                         [&](ApiClient* c, const std::string& name) -> absl::StatusOr<std::string> {
                           auto r = c->Do("POST", "/containers/" + name + "/kill", q);
                           if (!r.ok()) return r.status();
                           return name;
                         });
        });
  }
  {
    auto* o = new Options();
    o->app = root.add_subcommand("rm", "Remove one or more containers");
    o->app->add_flag("-f,--force", o->force,
                     "Force the removal of a running container (uses SIGKILL)");
    o->app->add_flag("-v,--volumes", o->volumes,
                     "Remove anonymous volumes associated with the container");
    o->app->add_flag("-l,--link", o->link, "Remove the specified link");
    add("rm", "rm [OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers", o,
        [o](CliContext& ctx) {
          Query q;
          if (o->volumes) q.push_back({"v", "1"});
          if (o->link) q.push_back({"link", "1"});
          if (o->force) q.push_back({"force", "1"});
          return ForEach(ctx, o->containers,
                         [&](ApiClient* c, const std::string& name) -> absl::StatusOr<std::string> {
                           auto r = c->Do("DELETE", "/containers/" + name, q);
                           if (!r.ok()) return r.status();
                           return name;
                         });
        });
  }
  {
    auto* o = new Options();
    o->app = root.add_subcommand(
        "wait", "Block until one or more containers stop, then print their exit codes");
    add("wait", "wait CONTAINER [CONTAINER...]",
        "Block until one or more containers stop, then print their exit codes", o,
        [o](CliContext& ctx) {
          return ForEach(
              ctx, o->containers,
              [](ApiClient* c, const std::string& name) -> absl::StatusOr<std::string> {
                auto r = c->DoJson("POST", "/containers/" + name + "/wait");
                if (!r.ok()) return r.status();
                if (r->contains("Error") && (*r)["Error"].is_object() &&
                    (*r)["Error"].value("Message", "") != "") {
                  return absl::InternalError((*r)["Error"]["Message"].get<std::string>());
                }
                if (!r->contains("StatusCode"))
                  return absl::InternalError("no StatusCode in the wait response");
                return std::to_string((*r)["StatusCode"].get<int64_t>());
              });
        });
  }
}

}  // namespace berth::cli
