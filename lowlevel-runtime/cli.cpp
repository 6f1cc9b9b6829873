#include "lowlevel-runtime/cli.h"

#include <seccomp.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "common/build_info.h"
#include "common/log.h"
#include "lowlevel-runtime/commands.h"
#include "lowlevel-runtime/sealed_exe.h"

namespace berth::oci {
namespace {

std::string LibseccompVersion() {
  const scmp_version* v = seccomp_version();
  return absl::StrCat(v->major, ".", v->minor, ".", v->micro);
}

// Errors are logged as runc logs them (logrus text, or JSON with --log-format
// json, to --log or stderr): containerd's runc shim reads them from there.
int Fail(const absl::Status& status) {
  Log(LogLevel::kError, status.message());
  return 1;
}

void AddCreateFlags(CLI::App* cmd, CreateOptions& o) {
  cmd->add_option("-b,--bundle", o.bundle, "path to the root of the bundle directory");
  cmd->add_option("--pid-file", o.pid_file, "file to write the process id to");
  cmd->add_option("--console-socket", o.console_socket,
                  "unix socket that receives the pty master (with process.terminal)");
  cmd->add_flag("--no-pivot", o.no_pivot, "do not use pivot_root (MS_MOVE + chroot instead)");
  cmd->add_flag("--no-new-keyring", o.no_new_keyring,
                "do not create a new session keyring for the container");
  cmd->add_option("--preserve-fds", o.preserve_fds,
                  "pass N additional file descriptors to the container (3 to 3+N-1)");
  cmd->add_option("container-id", o.id, "container id")->required();
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"berth-oci: an OCI runtime, runc-compatible", "berth-oci"};
  app.require_subcommand(1);
  GlobalOptions global;
  std::string log_path;
  std::string log_format = "text";
  bool debug = false;
  app.set_version_flag("-v,--version", [] {
    return VersionText("berth-oci", {{"spec", "1.1.0"}, {"libseccomp", LibseccompVersion()}});
  });
  app.add_option("--root", global.root, "root directory for storage of container state")
      ->capture_default_str();
  app.add_option("--log", log_path, "log file (default: stderr)");
  app.add_option("--log-format", log_format, "log format: text or json")->capture_default_str();
  app.add_flag("--debug", debug, "enable debug logging");
  app.add_flag("--systemd-cgroup", global.systemd_cgroup,
               "use systemd for cgroups (accepted; cgroupfs is used)");

  CreateOptions create;
  CLI::App* create_cmd = app.add_subcommand("create", "create a container");
  AddCreateFlags(create_cmd, create);

  CreateOptions run;
  bool detach = false;
  CLI::App* run_cmd = app.add_subcommand("run", "create and run a container");
  AddCreateFlags(run_cmd, run);
  run_cmd->add_flag("-d,--detach", detach, "detach from the container's process");

  std::string id;
  CLI::App* start_cmd = app.add_subcommand("start", "start a created container");
  start_cmd->add_option("container-id", id, "container id")->required();

  CLI::App* state_cmd = app.add_subcommand("state", "output the state of a container");
  state_cmd->add_option("container-id", id, "container id")->required();

  bool kill_all = false;
  std::string signal = "SIGTERM";
  CLI::App* kill_cmd = app.add_subcommand("kill", "send a signal to the container's init");
  kill_cmd->add_flag("-a,--all", kill_all, "send the signal to every process of the container");
  kill_cmd->add_option("container-id", id, "container id")->required();
  kill_cmd->add_option("signal", signal, "signal name or number")->capture_default_str();

  bool force = false;
  CLI::App* delete_cmd = app.add_subcommand("delete", "delete a container");
  delete_cmd->add_flag("-f,--force", force, "kill the container first if it is running");
  delete_cmd->add_option("container-id", id, "container id")->required();

  std::string format = "table";
  bool quiet = false;
  CLI::App* list_cmd = app.add_subcommand("list", "list containers");
  list_cmd->add_option("-f,--format", format, "table or json")->capture_default_str();
  list_cmd->add_flag("-q,--quiet", quiet, "display only container ids");

  std::string spec_bundle = ".";
  bool rootless = false;
  CLI::App* spec_cmd = app.add_subcommand("spec", "create a new specification file");
  spec_cmd->add_option("-b,--bundle", spec_bundle, "path to the root of the bundle directory");
  spec_cmd->add_flag("--rootless", rootless, "generate a configuration for a rootless container");

  ExecOptions exec;
  CLI::App* exec_cmd = app.add_subcommand("exec", "execute a new process inside the container");
  exec_cmd->add_option("-p,--process", exec.process_path, "path to a process.json");
  exec_cmd->add_flag("-d,--detach", exec.detach, "detach from the process");
  exec_cmd->add_flag("-t,--tty", exec.tty, "allocate a pseudo-TTY (with --console-socket)");
  exec_cmd->add_option("--pid-file", exec.pid_file, "file to write the process id to");
  exec_cmd->add_option("--console-socket", exec.console_socket, "unix socket for the pty master");
  exec_cmd->add_option("--cwd", exec.cwd, "current working directory in the container");
  exec_cmd->add_option("-e,--env", exec.env, "set environment variables (KEY=VALUE)");
  exec_cmd->add_option("-u,--user", exec.user, "uid[:gid]");
  exec_cmd->add_option("-g,--additional-gids", exec.additional_gids, "additional gids");
  exec_cmd->add_option("-c,--cap", exec.caps, "add a capability to the process");
  exec_cmd->add_flag("--no-new-privs", exec.no_new_privs, "set no_new_privs for the process");
  exec_cmd->add_option("--preserve-fds", exec.preserve_fds, "pass N additional fds");
  exec_cmd->add_option("container-id", exec.id, "container id")->required();
  exec_cmd->add_option("command", exec.args, "command and arguments");
  exec_cmd->positionals_at_end(true);

  std::string ps_format = "table";
  std::vector<std::string> ps_args;
  CLI::App* ps_cmd = app.add_subcommand("ps", "the processes running in a container");
  ps_cmd->add_option("-f,--format", ps_format, "table or json")->capture_default_str();
  ps_cmd->add_option("container-id", id, "container id")->required();
  ps_cmd->add_option("ps-args", ps_args, "arguments for ps (default -ef)");

  CLI::App* pause_cmd = app.add_subcommand("pause", "suspend every process of the container");
  pause_cmd->add_option("container-id", id, "container id")->required();
  CLI::App* resume_cmd = app.add_subcommand("resume", "resume a paused container");
  resume_cmd->add_option("container-id", id, "container id")->required();

  UpdateOptions update;
  CLI::App* update_cmd = app.add_subcommand("update", "update container resource constraints");
  update_cmd->add_option("-r,--resources", update.resources_path,
                         "resources JSON file (\"-\" for stdin)");
  update_cmd->add_option("--memory", update.memory, "memory limit in bytes");
  update_cmd->add_option("--memory-swap", update.memory_swap, "memory plus swap limit in bytes");
  update_cmd->add_option("--memory-reservation", update.memory_reservation,
                         "memory soft limit in bytes");
  update_cmd->add_option("--cpu-share,--cpu-shares", update.cpu_shares,
                         "CPU shares (relative weight)");
  update_cmd->add_option("--cpu-quota", update.cpu_quota, "CPU CFS quota in microseconds");
  update_cmd->add_option("--cpu-period", update.cpu_period, "CPU CFS period in microseconds");
  update_cmd->add_option("--cpuset-cpus", update.cpuset_cpus, "CPUs to use (0-3, 0,1)");
  update_cmd->add_option("--cpuset-mems", update.cpuset_mems, "memory nodes to use");
  update_cmd->add_option("--pids-limit", update.pids_limit, "maximum number of pids");
  update_cmd->add_option("--blkio-weight", update.blkio_weight, "block IO weight (10-1000)");
  update_cmd->add_option("container-id", update.id, "container id")->required();

  bool events_stats = false;
  std::string events_interval = "5s";
  CLI::App* events_cmd = app.add_subcommand("events", "container statistics and OOM events");
  events_cmd->add_flag("--stats", events_stats, "print one stats line and exit");
  events_cmd->add_option("--interval", events_interval, "stats interval")->capture_default_str();
  events_cmd->add_option("container-id", id, "container id")->required();

  CLI::App* features_cmd = app.add_subcommand("features", "show the enabled features");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  auto level = debug ? LogLevel::kDebug : LogLevel::kWarn;
  auto fmt = ParseLogFormat(log_format);
  if (!fmt.ok()) return Fail(fmt.status());
  if (absl::Status st = ConfigureLogging({.level = level, .format = *fmt, .path = log_path});
      !st.ok()) {
    std::cerr << "berth-oci: " << st.message() << "\n";
    return 1;
  }
  if (global.systemd_cgroup) {
    LogWarn("--systemd-cgroup: systemd cgroup management is not supported yet; using cgroupfs");
  }

  if (create_cmd->parsed() || run_cmd->parsed() || exec_cmd->parsed()) {
    if (absl::Status st = EnsureSealedExecutable(argv); !st.ok()) return Fail(st);
  }
  if (create_cmd->parsed()) {
    auto pid = Create(global, create);
    return pid.ok() ? 0 : Fail(pid.status());
  }
  if (run_cmd->parsed()) {
    auto code = Run(global, run, detach);
    return code.ok() ? *code : Fail(code.status());
  }
  if (exec_cmd->parsed()) {
    auto code = Exec(global, exec);
    return code.ok() ? *code : Fail(code.status());
  }
  absl::Status st;
  if (ps_cmd->parsed()) st = Ps(global, id, ps_format, ps_args);
  if (pause_cmd->parsed()) st = Pause(global, id);
  if (resume_cmd->parsed()) st = Resume(global, id);
  if (update_cmd->parsed()) st = Update(global, update);
  if (features_cmd->parsed()) st = Features();
  if (events_cmd->parsed()) st = Events(global, id, events_stats, events_interval);
  if (start_cmd->parsed()) st = Start(global, id);
  if (state_cmd->parsed()) st = State(global, id);
  if (kill_cmd->parsed()) st = Kill(global, id, signal, kill_all);
  if (delete_cmd->parsed()) st = Delete(global, id, force);
  if (list_cmd->parsed()) st = List(global, format, quiet);
  if (spec_cmd->parsed()) st = WriteSpec(spec_bundle, rootless);
  return st.ok() ? 0 : Fail(st);
}

}  // namespace berth::oci
