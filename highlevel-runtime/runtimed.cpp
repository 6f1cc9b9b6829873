#include "highlevel-runtime/runtimed.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/build_info.h"
#include "common/log.h"
#include "common/status.h"
#include "highlevel-runtime/containers_service.h"
#include "highlevel-runtime/content_service.h"
#include "highlevel-runtime/events/shim_events_server.h"
#include "highlevel-runtime/events_service.h"
#include "highlevel-runtime/images_service.h"
#include "highlevel-runtime/leases_service.h"
#include "highlevel-runtime/metadata/metadata_db.h"
#include "highlevel-runtime/registry/registry_client.h"
#include "highlevel-runtime/snapshots/snapshotter.h"
#include "highlevel-runtime/snapshots_service.h"
#include "highlevel-runtime/tasks_service.h"
#include "highlevel-runtime/version_service.h"

namespace berth::runtimed {
namespace {

absl::Status MakeDirs(const std::string& path, std::filesystem::perms perms) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return ErrnoError(ec.value(), absl::StrCat("create ", path));
  std::filesystem::permissions(path, perms, ec);
  if (ec) return ErrnoError(ec.value(), absl::StrCat("chmod ", path));
  return absl::OkStatus();
}

}  // namespace

absl::Status Serve(const Options& options) {
  using std::filesystem::perms;
  BERTH_RETURN_IF_ERROR(MakeDirs(options.root, perms::owner_all));
  BERTH_RETURN_IF_ERROR(MakeDirs(options.state, perms::owner_all));
  BERTH_RETURN_IF_ERROR(MakeDirs(std::filesystem::path(options.address).parent_path().string(),
                                 perms::owner_all | perms::group_read | perms::group_exec));
  // A socket left by a daemon that died is stale: nothing can be listening on it.
  if (::unlink(options.address.c_str()) != 0 && errno != ENOENT) {
    return LastErrnoError(absl::StrCat("remove stale socket ", options.address));
  }

  // Block the stop signals in every thread; one thread waits for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  // The Images service's pulls read it (PullOptions' default).
  SetDefaultRegistryCertsDir(options.registry_certs_dir);
  BERTH_ASSIGN_OR_RETURN(ContentStore content, ContentStore::Open(options.root + "/content"));
  BERTH_ASSIGN_OR_RETURN(auto db, OpenMetadataDb(options.root + "/metadata.db"));
  ImageStore image_store(*db);
  Snapshotter snapshotter(*db, options.root + "/snapshots");
  EventBus events;
  BERTH_ASSIGN_OR_RETURN(auto shim_events,
                         ShimEventsServer::Start(options.state + "/events.ttrpc.sock", events));
  EventsService events_service(events);
  LeaseStore lease_store(*db);
  ContentLabelStore content_labels(*db);
  GarbageCollector gc(content, content_labels, image_store, snapshotter, lease_store);
  ImagesService images(content, image_store, snapshotter, events, gc, lease_store,
                       options.insecure_registries);
  ContentService content_service(content, content_labels);
  LeasesService leases(lease_store, gc);
  SnapshotsService snapshots_service(snapshotter);
  ContainerStore container_store(*db);
  TaskManager task_manager(options.state, options.address, shim_events->address());
  // Tasks outlive runtimed: find the shims of the previous one.
  BERTH_RETURN_IF_ERROR(task_manager.Reload());
  ContainersService containers(container_store, image_store, content, snapshotter, task_manager,
                               events);
  TasksService tasks(container_store, snapshotter, task_manager);

  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  VersionService version;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat("unix:", options.address),
                           grpc::InsecureServerCredentials());
  builder.RegisterService(&version);
  builder.RegisterService(&images);
  builder.RegisterService(&content_service);
  builder.RegisterService(&snapshots_service);
  builder.RegisterService(&containers);
  builder.RegisterService(&tasks);
  builder.RegisterService(&events_service);
  builder.RegisterService(&leases);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return absl::UnavailableError(absl::StrCat("cannot listen on ", options.address));
  if (::chmod(options.address.c_str(), 0660) != 0) {
    return LastErrnoError(absl::StrCat("chmod ", options.address));
  }
  LogInfo("berth-runtimed {} serving on {}", Version(), options.address);

  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop, &sig);
    LogInfo("received signal {}, shutting down", sig);
    server->Shutdown();
  });
  server->Wait();
  waiter.join();
  ::unlink(options.address.c_str());
  return absl::OkStatus();
}

int Main(int argc, char** argv) {
  Options options;
  CLI::App app{"berth-runtimed: berth's container lifecycle manager", "berth-runtimed"};
  app.set_version_flag(
      "-v,--version", [] { return VersionText("berth-runtimed"); },
      "Print version information and quit");
  app.add_option("-a,--address", options.address, "gRPC socket path")->capture_default_str();
  app.add_option("--root", options.root, "persistent state directory")->capture_default_str();
  app.add_option("--state", options.state, "runtime state directory")->capture_default_str();
  app.add_option("-l,--log-level", options.log_level, "debug, info, warn or error")
      ->capture_default_str();
  app.add_option("--insecure-registry", options.insecure_registries,
                 "registry HOST[:PORT] whose TLS certificate is not verified and which may "
                 "be pulled from over plain HTTP (repeatable)");
  app.add_option("--registry-certs-dir", options.registry_certs_dir,
                 "per-registry certificates: DIR/HOST:PORT/{ca.crt,client.cert,client.key}")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto level = ParseLogLevel(options.log_level);
  if (!level.ok()) {
    std::cerr << "berth-runtimed: " << level.status().message() << "\n";
    return 1;
  }
  (void)ConfigureLogging({.level = *level, .format = LogFormat::kText, .path = ""});
  if (absl::Status st = Serve(options); !st.ok()) {
    std::cerr << "berth-runtimed: " << st.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace berth::runtimed
