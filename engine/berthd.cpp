#include "engine/berthd.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/build_info.h"
#include "common/log.h"
#include "common/status.h"
#include "engine/http/server.h"
#include "engine/routes/routes.h"
#include "engine/runtimed_client.h"

namespace berth::engine {

absl::Status Serve(const Options& options) {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);

  RuntimedClient runtimed(options.runtimed);
  BERTH_RETURN_IF_ERROR(runtimed.WaitReady(std::chrono::seconds(30)));
  BERTH_ASSIGN_OR_RETURN(auto daemon, Daemon::Start(options.daemon, runtimed));

  http::Router router;
  AddSystemRoutes(router, *daemon, runtimed);
  AddContainerRoutes(router, *daemon);
  AddImageRoutes(router, *daemon);
  AddExecRoutes(router, *daemon);
  AddEventRoutes(router, *daemon);
  AddStatsRoutes(router, *daemon);
  http::ServerOptions server_options;
  server_options.min_api_version = kMinApiVersion;
  server_options.max_api_version = kMaxApiVersion;
  server_options.extra_headers = {{"Docker-Experimental", "false"},
                                  {"Ostype", "linux"},
                                  {"Server", absl::StrCat("Docker/", Version(), " (linux)")}};
  http::Server server(std::move(router), server_options);
  std::vector<std::string> hosts = options.hosts;
  if (hosts.empty()) hosts.push_back("unix:///run/berth/berthd.sock");
  for (const std::string& host : hosts) {
    absl::string_view rest = host;
    if (absl::ConsumePrefix(&rest, "unix://")) {
      std::error_code ec;
      std::filesystem::create_directories(std::filesystem::path(std::string(rest)).parent_path(),
                                          ec);
      BERTH_RETURN_IF_ERROR(server.ListenUnix(std::string(rest), 0660, options.group));
    } else if (absl::ConsumePrefix(&rest, "tcp://")) {
      LogWarn("listening on tcp://{} without TLS: anyone who can reach it is root here", rest);
      BERTH_RETURN_IF_ERROR(server.ListenTcp(std::string(rest)));
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid host \"", host, "\": want unix:///path or tcp://host:port"));
    }
  }
  if (!options.pidfile.empty()) {
    std::ofstream pid(options.pidfile, std::ios::trunc);
    pid << ::getpid() << "\n";
    if (!pid) return absl::InternalError(absl::StrCat("write pid file ", options.pidfile));
  }
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop, &sig);
    LogInfo("berthd: signal {}, shutting down (containers keep running)", sig);
    server.Shutdown();
  });
  LogInfo("berthd {} serving the Engine API (API {}) on {}", Version(), kMaxApiVersion,
          hosts.front());
  server.Run();
  // Handlers run on their own threads and use the daemon: let them finish (an
  // attach may last; it is cut off when berthd exits).
  if (!server.WaitForConnections(std::chrono::seconds(5))) {
    // An attach or a follow that would not end: the daemon cannot be torn
    // down under it. The containers do not need berthd to go on running.
    LogInfo("berthd: {} connections still open at exit; leaving them", server.ActiveConnections());
    if (!options.pidfile.empty()) ::unlink(options.pidfile.c_str());
    std::_Exit(0);
  }
  // Wake the waiter if Run ended on its own.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  if (!options.pidfile.empty()) ::unlink(options.pidfile.c_str());
  return absl::OkStatus();
}

int Main(int argc, char** argv) {
  Options options;
  CLI::App app{"berthd: the berth Docker Engine API daemon", "berthd"};
  app.set_version_flag(
      "-v,--version", [] { return VersionText("berthd"); }, "Print version information and quit");
  app.add_option("-H,--host", options.hosts, "daemon socket(s) to listen on (unix:// or tcp://)");
  app.add_option("--data-root", options.daemon.data_root, "root of persistent berthd state")
      ->capture_default_str();
  app.add_option("--exec-root", options.daemon.exec_root, "root of berthd's runtime state")
      ->capture_default_str();
  app.add_option("--runtimed", options.runtimed, "berth-runtimed's gRPC socket")
      ->capture_default_str();
  app.add_option("-p,--pidfile", options.pidfile, "path for the daemon's pid file");
  app.add_option("-G,--group", options.group, "group for the unix socket")->capture_default_str();
  app.add_option("-l,--log-level", options.log_level, "debug, info, warn or error")
      ->capture_default_str();
  app.add_option("--default-runtime", options.daemon.runtime,
                 "shim runtime for containers (io.containerd.berth.v2 or io.containerd.runc.v2)")
      ->capture_default_str();
  app.add_option("--runtime-binary", options.daemon.runtime_binary,
                 "OCI runtime the shim drives (default: the shim's own, berth-oci for ours)");
  app.add_option("--init-path", options.daemon.init_path, "docker-init binary for --init")
      ->capture_default_str();
  app.add_option("--cgroup-parent", options.daemon.cgroup_parent,
                 "parent cgroup of every container's cgroup")
      ->capture_default_str();
  std::vector<std::string> log_opts;
  app.add_option("--log-opt", log_opts,
                 "default json-file log options (KEY=VALUE, repeated); replaces max-size=20m, "
                 "max-file=5");
  std::vector<std::string> insecure;
  app.add_option("--insecure-registry", insecure,
                 "accepted for dockerd compatibility: berth-runtimed decides (its own flag)");
  std::string bridge;
  app.add_option("-b,--bridge", bridge, "only \"none\" until berthd has bridge networks");
  CLI11_PARSE(app, argc, argv);

  auto level = ParseLogLevel(options.log_level);
  if (!level.ok()) {
    std::cerr << "berthd: " << level.status().message() << "\n";
    return 1;
  }
  if (!bridge.empty() && bridge != "none") {
    std::cerr << "berthd: --bridge " << bridge << ": only \"none\" is supported yet\n";
    return 1;
  }
  if (!log_opts.empty()) {
    options.daemon.log_opts.clear();
    for (const std::string& opt : log_opts) {
      size_t eq = opt.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::cerr << "berthd: --log-opt " << opt << ": want KEY=VALUE\n";
        return 1;
      }
      options.daemon.log_opts[opt.substr(0, eq)] = opt.substr(eq + 1);
    }
    if (auto checked = ResolveLogConfig(nlohmann::json::object(), options.daemon.log_opts);
        !checked.ok()) {
      std::cerr << "berthd: --log-opt: " << checked.status().message() << "\n";
      return 1;
    }
  }
  (void)ConfigureLogging({.level = *level, .format = LogFormat::kText, .path = ""});
  if (absl::Status st = Serve(options); !st.ok()) {
    std::cerr << "berthd: " << st.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace berth::engine
