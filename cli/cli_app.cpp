#include "cli/cli_app.h"

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "absl/strings/match.h"
#include "cli/command.h"
#include "cli/format/table_writer.h"
#include "cli/stream.h"
#include "common/build_info.h"

namespace berth::cli {

absl::StatusOr<ApiClient*> CliContext::Client() {
  if (client_) return &*client_;
  auto c = ApiClient::Create(host_);
  if (!c.ok()) return c.status();
  if (absl::Status st = c->Negotiate(); !st.ok()) return st;
  client_.emplace(std::move(*c));
  return &*client_;
}

void CliContext::Out(std::string_view s) { (void)WriteAll(STDOUT_FILENO, s); }
void CliContext::Err(std::string_view s) { (void)WriteAll(STDERR_FILENO, s); }
bool CliContext::StdoutIsTerminal() { return ::isatty(STDOUT_FILENO) != 0; }
bool CliContext::StdinIsTerminal() { return ::isatty(STDIN_FILENO) != 0; }

int ReportError(const absl::Status& status) {
  CliContext::Err(std::string(status.message()) + "\n");
  return 1;
}

namespace {

constexpr const char* kRootUsage = "[OPTIONS] COMMAND";

// docker's option listing: "  -d, --detach   Run container in background…"
std::string OptionsHelp(const CLI::App* app) {
  TabWriter w(0, 8, 2, ' ');
  for (const CLI::Option* opt : app->get_options()) {
    if (opt->get_positional()) continue;
    std::string names;
    for (const auto& s : opt->get_snames()) names += "-" + s + ", ";
    std::string longs;
    for (const auto& l : opt->get_lnames()) {
      if (!longs.empty()) continue;  // first long name only
      longs = "--" + l;
    }
    if (names.empty()) names = "    ";
    std::string type;
    if (opt->get_items_expected_max() != 0 && !opt->get_type_name().empty()) {
      std::string t = opt->get_type_name();
      if (t == "TEXT") t = "string";
      if (t == "INT") t = "int";
      if (t == "FLOAT") t = "decimal";
      if (opt->get_expected_max() > 1 || opt->get_items_expected_max() > 1) t = "list";
      type = " " + t;
    }
    w.Write("  " + names + longs + type + "\t" + opt->get_description() + "\n");
  }
  return w.Flush();
}

std::string CommandHelp(const CommandSpec& spec) {
  std::string s = "\nUsage:  berth " + spec.usage + "\n\n" + spec.description + "\n";
  std::string opts = OptionsHelp(spec.app);
  if (!opts.empty()) s += "\nOptions:\n" + opts;
  return s;
}

std::string RootHelp(const CLI::App& app, const Registry& reg) {
  std::string s = std::string("\nUsage:  berth ") + kRootUsage +
                  "\n\nA self-sufficient runtime for containers\n\nOptions:\n" + OptionsHelp(&app) +
                  "\nCommands:\n";
  TabWriter w(0, 8, 2, ' ');
  for (const auto& spec : reg) w.Write("  " + spec.name + "\t" + spec.description + "\n");
  s += w.Flush();
  s += "\nRun 'berth COMMAND --help' for more information on a command.\n";
  return s;
}

// "See 'berth run --help'." after flag errors (exit 125, as docker's
// FlagErrorFunc).
int FlagError(const std::string& msg, const std::string& cmd) {
  std::string see = cmd.empty() ? "berth --help" : "berth " + cmd + " --help";
  CliContext::Err(msg + "\nSee '" + see + "'.\n");
  return 125;
}

std::string FlagErrorMessage(const std::string& arg) {
  if (absl::StartsWith(arg, "--")) {
    return "unknown flag: " + arg.substr(0, arg.find('='));
  }
  return "unknown shorthand flag: '" + arg.substr(1, 1) + "' in " + arg;
}

// The index of the first positional argument in args[start..), given cmd's
// options (a flag's value is not positional); args.size() if there is none.
// A "--" ends the flags and is removed.
size_t FirstPositional(const CLI::App* cmd, std::vector<std::string>* args, size_t start) {
  for (size_t i = start; i < args->size(); ++i) {
    const std::string& a = (*args)[i];
    if (a == "--") {
      args->erase(args->begin() + static_cast<std::ptrdiff_t>(i));
      return i;
    }
    if (a.size() < 2 || a[0] != '-') return i;
    if (a[1] == '-') {
      if (a.find('=') != std::string::npos) continue;
      const CLI::Option* opt = cmd->get_option_no_throw(a);
      if (opt != nullptr && opt->get_items_expected_max() != 0) ++i;
      continue;
    }
    for (size_t k = 1; k < a.size(); ++k) {
      const CLI::Option* opt = cmd->get_option_no_throw("-" + a.substr(k, 1));
      if (opt == nullptr) break;
      if (opt->get_items_expected_max() != 0) {
        if (k + 1 == a.size()) ++i;
        break;
      }
    }
  }
  return args->size();
}

}  // namespace

int Main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"A self-sufficient runtime for containers", "berth"};
  app.set_help_flag("--help", "Print usage");
  std::vector<std::string> hosts;
  bool version = false;
  bool debug = false;
  std::string log_level, config_dir, context;
  app.add_option("-H,--host", hosts, "Daemon socket to connect to");
  app.add_flag("-v,--version", version, "Print version information and quit");
  app.add_flag("-D,--debug", debug, "Enable debug mode");
  app.add_option("-l,--log-level", log_level, "Set the logging level");
  app.add_option("--config", config_dir, "Location of client config files");
  app.add_option("-c,--context", context, "Name of the context to use to connect to the daemon");
  app.require_subcommand(0, 1);

  Registry reg;
  RegisterRunCommands(app, reg);
  RegisterLifecycleCommands(app, reg);
  RegisterContainerCommands(app, reg);
  RegisterPsCommand(app, reg);
  RegisterInspectCommand(app, reg);
  RegisterImageCommands(app, reg);
  RegisterSystemCommands(app, reg);
  for (auto& spec : reg) {
    // pflag semantics: a repeated flag takes one value per use (-e A -e B).
    for (CLI::Option* opt : spec.app->get_options()) {
      if (!opt->get_positional()) opt->allow_extra_args(false);
    }
    if (spec.app->get_help_ptr() == nullptr) continue;
    if (spec.name != "run" && spec.name != "create")
      spec.app->set_help_flag("-h,--help", "Print usage");
  }

  auto find_spec = [&](const CLI::App* sub) -> const CommandSpec* {
    for (const auto& spec : reg) {
      if (spec.app == sub) return &spec;
    }
    return nullptr;
  };
  auto current_cmd = [&]() -> const CommandSpec* {
    auto subs = app.get_subcommands();
    return subs.empty() ? nullptr : find_spec(subs.back());
  };

  // run/create: cut argv at the image; the rest is the container's command.
  std::vector<std::string> args(argv + 1, argv + argc);
  size_t sub = FirstPositional(&app, &args, 0);
  if (sub < args.size()) {
    for (auto& spec : reg) {
      if (!spec.set_tail || spec.name != args[sub]) continue;
      size_t image = FirstPositional(spec.app, &args, sub + 1);
      spec.set_tail(
          std::vector<std::string>(args.begin() + static_cast<std::ptrdiff_t>(image), args.end()));
      args.resize(image);
    }
  }
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    const CommandSpec* spec = current_cmd();
    CliContext::Out(spec ? CommandHelp(*spec) : RootHelp(app, reg));
    return 0;
  } catch (const CLI::ExtrasError& e) {
    const CommandSpec* spec = current_cmd();
    std::string cmd = spec ? spec->name : "";
    std::vector<std::string> extras = spec ? spec->app->remaining() : app.remaining();
    if (extras.empty()) extras = app.remaining();
    std::string first = extras.empty() ? "" : extras.front();
    if (absl::StartsWith(first, "-") && first != "-")
      return FlagError(FlagErrorMessage(first), cmd);
    if (spec == nullptr) {
      CliContext::Err("berth: '" + first + "' is not a berth command.\nSee 'berth --help'\n");
      return 1;
    }
    CliContext::Err("\"berth " + cmd + "\" accepts no arguments.\nSee 'berth " + cmd +
                    " --help'.\n\nUsage:  berth " + spec->usage + "\n\n" + spec->description +
                    "\n");
    return 1;
  } catch (const CLI::ArgumentMismatch& e) {
    const CommandSpec* spec = current_cmd();
    std::string what = e.what();
    std::string flag = what.substr(0, what.find(':'));
    if (absl::StartsWith(flag, "-") && !absl::StartsWith(flag, "--")) {
      return FlagError("flag needs an argument: '" + flag.substr(1) + "' in " + flag,
                       spec ? spec->name : "");
    }
    return FlagError("flag needs an argument: " + flag, spec ? spec->name : "");
  } catch (const CLI::ParseError& e) {
    const CommandSpec* spec = current_cmd();
    return FlagError(std::string("invalid argument: ") + e.what(), spec ? spec->name : "");
  }

  if (version) {
    CliContext::Out(VersionText("berth") + "\n");
    return 0;
  }
  const CommandSpec* spec = current_cmd();
  if (spec == nullptr) {
    CliContext::Out(RootHelp(app, reg));
    return 0;
  }
  if (spec->args != nullptr) {
    int n = static_cast<int>(spec->args->size());
    std::string problem;
    if (n < spec->min_args) {
      problem = spec->min_args == 1
                    ? "requires at least 1 argument."
                    : "requires at least " + std::to_string(spec->min_args) + " arguments.";
      if (spec->max_args == spec->min_args)
        problem = "requires exactly " + std::to_string(spec->min_args) +
                  (spec->min_args == 1 ? " argument." : " arguments.");
    } else if (spec->max_args >= 0 && n > spec->max_args) {
      problem = spec->max_args == 0 ? "accepts no arguments."
                : spec->max_args == spec->min_args
                    ? "requires exactly " + std::to_string(spec->max_args) +
                          (spec->max_args == 1 ? " argument." : " arguments.")
                    : "requires at most " + std::to_string(spec->max_args) +
                          (spec->max_args == 1 ? " argument." : " arguments.");
    }
    if (!problem.empty()) {
      CliContext::Err("\"berth " + spec->name + "\" " + problem + "\nSee 'berth " + spec->name +
                      " --help'.\n\nUsage:  berth " + spec->usage + "\n\n" + spec->description +
                      "\n");
      return 1;
    }
  }

  std::string host;
  if (!hosts.empty()) {
    host = hosts.back();
  } else if (const char* h = std::getenv("BERTH_HOST"); h != nullptr && *h != '\0') {
    host = h;
  } else if (const char* d = std::getenv("DOCKER_HOST"); d != nullptr && *d != '\0') {
    host = d;
  } else {
    host = std::string(kDefaultHost);
  }
  CliContext ctx(host);
  return spec->run(ctx);
}

}  // namespace berth::cli
