// berthd's containers: Docker's lifecycle (create, start, stop, kill, wait,
// restart, remove) on berth-runtimed's Containers and Tasks, the Docker-level
// state kept in the ContainerStore, and the exits the shims report applied as
// they come (Events.Subscribe).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/daemon/container.h"
#include "engine/daemon/container_io.h"
#include "engine/daemon/container_store.h"
#include "engine/daemon/event_log.h"
#include "engine/daemon/exec.h"
#include "engine/daemon/image_service.h"
#include "engine/daemon/log_config.h"
#include "engine/daemon/output_hub.h"
#include "engine/runtimed_client.h"
#include "engine/spec/user_lookup.h"

namespace berth::engine {

struct DaemonOptions {
  std::string data_root = "/var/lib/berth";
  std::string exec_root = "/run/berth";
  // The shim runtimed starts for our containers, and the OCI runtime it drives
  // (empty: the shim's default).
  std::string runtime = "io.containerd.berth.v2";
  std::string runtime_binary;
  std::string init_path = "/usr/bin/docker-init";
  // Containers' cgroups go under it: <cgroup_parent>/<id> (dockerd's --cgroup-parent).
  std::string cgroup_parent = "/berth";
  // The json-file options a container's LogConfig does not set (--log-opt).
  std::map<std::string, std::string> log_opts = kDefaultLogOpts;
};

enum class WaitCondition { kNotRunning, kNextExit, kRemoved };

struct WaitResult {
  int status_code = 0;
  std::string error;
};

class Daemon {
 public:
  static absl::StatusOr<std::unique_ptr<Daemon>> Start(const DaemonOptions& options,
                                                       RuntimedClient& runtimed);
  ~Daemon();

  ImageService& images() { return images_; }
  // GET /events: what happened to containers and images.
  EventLog& events() { return events_; }
  const DaemonOptions& options() const { return options_; }

  // POST /containers/create: the body is Docker's Config with HostConfig.
  absl::StatusOr<std::string> Create(const std::string& name, const nlohmann::json& body);
  // false: it was already running (304).
  absl::StatusOr<bool> StartContainer(const std::string& ref);
  // false: it was not running (304). timeout: seconds, nullopt for the
  // container's StopTimeout or 10; negative waits forever.
  absl::StatusOr<bool> Stop(const std::string& ref, std::optional<int> timeout);
  absl::Status Restart(const std::string& ref, std::optional<int> timeout);
  absl::Status Kill(const std::string& ref, const std::string& signal);
  // Blocks until the condition holds or cancelled() turns true (Cancelled).
  absl::StatusOr<WaitResult> Wait(const std::string& ref, WaitCondition condition,
                                  const std::function<bool()>& cancelled);
  absl::Status Remove(const std::string& ref, bool force);
  absl::StatusOr<nlohmann::ordered_json> Inspect(const std::string& ref);
  // GET /containers/json: all, limit (<= 0: none), filters as Docker's JSON.
  absl::StatusOr<nlohmann::ordered_json> List(bool all, int limit, const nlohmann::json& filters);
  // The container's id and its output hub, for attach.
  struct AttachTarget {
    std::string id;
    bool tty = false;
    bool open_stdin = false;
    bool stdin_once = false;
    std::shared_ptr<OutputHub> hub;
  };
  absl::StatusOr<AttachTarget> ForAttach(const std::string& ref);
  struct LogTarget {
    std::string id, log_path;
    bool tty = false;
  };
  absl::StatusOr<LogTarget> ForLogs(const std::string& ref);
  // False once the container does not run (its log is then complete) or is gone.
  bool Running(const std::string& id);
  // Writes data to the running container's stdin; closes it when data is empty.
  absl::Status WriteStdin(const std::string& id, const std::string& data);
  absl::Status CloseStdin(const std::string& id);

  // --- daemon_ops.cpp ---
  // POST /containers/{id}/resize: the container's pty.
  absl::Status Resize(const std::string& ref, uint32_t height, uint32_t width);
  absl::Status Pause(const std::string& ref);
  absl::Status Unpause(const std::string& ref);
  // GET /containers/{id}/top: host ps rows of the container's processes.
  absl::StatusOr<nlohmann::ordered_json> Top(const std::string& ref, const std::string& ps_args);
  absl::Status Rename(const std::string& ref, const std::string& new_name);

  // --- daemon_stats.cpp ---
  struct StatsTarget {
    std::string id, name;
    bool running = false;  // and not restarting: dockerd's test for live stats
  };
  absl::StatusOr<StatsTarget> ForStats(const std::string& ref);
  // One sample of the running task's cgroup (Tasks.Stats).
  absl::StatusOr<api::StatsResponse> TaskStats(const std::string& id);

  // --- daemon_exec.cpp ---
  // POST /containers/{id}/exec: the new exec's id.
  absl::StatusOr<std::string> CreateExec(const std::string& ref, const nlohmann::json& body);
  absl::StatusOr<std::shared_ptr<Exec>> FindExec(const std::string& id);
  // Marks the exec as started: Conflict when it ran or runs already.
  absl::Status ClaimExec(Exec& ex);
  // Runs a claimed exec. On failure the exec's exit code is 126 (dockerd's).
  absl::Status StartExec(const std::shared_ptr<Exec>& ex);
  absl::Status WriteExecStdin(Exec& ex, const std::string& data);
  absl::Status CloseExecStdin(Exec& ex);
  absl::Status ResizeExec(const std::string& id, uint32_t height, uint32_t width);

  struct Counts {
    int total = 0, running = 0, paused = 0, stopped = 0;
  };
  Counts CountContainers();
  bool ImageInUse(const std::string& image_id);

 private:
  struct Entry {
    std::mutex op;  // one lifecycle operation at a time; never held while waiting for an exit
    std::mutex mu;  // guards c, io, exits, removed
    std::condition_variable cv;
    Container c;
    std::unique_ptr<ContainerIo> io;
    std::shared_ptr<OutputHub> hub = std::make_shared<OutputHub>();
    uint64_t exits = 0;
    bool removed = false;
  };

  Daemon(const DaemonOptions& options, RuntimedClient& runtimed,
         std::unique_ptr<ContainerStore> store);
  absl::StatusOr<std::shared_ptr<Entry>> Find(const std::string& ref);
  absl::Status Save(Entry& e);  // e.mu held
  // Tells GET /events (e.mu held, or c otherwise stable).
  void LogEvent(const Container& c, std::string action,
                const std::map<std::string, std::string>& extra = {}) {
    events_.Publish(ContainerEvent(c, std::move(action), extra));
  }
  // Waits (e.mu held by lock) until the run's stdin is open; false if the run
  // ended or never came.
  bool WaitForStdin(Entry& e, std::unique_lock<std::mutex>& lock);
  absl::Status StartLocked(Entry& e);
  absl::Status SendSignal(Entry& e, int signal);
  // Waits (e.mu not held) until the run that is current ends; false on timeout.
  bool WaitExit(Entry& e, absl::Duration timeout);
  absl::Status RemoveEntry(const std::shared_ptr<Entry>& e, bool force);
  // The task (and its shim) of a container that exited; a missing one is fine.
  void DeleteTask(const std::string& id);
  // Everything runtimed and the disk hold for a container: task, container,
  // snapshot, its directories.
  absl::Status ReleaseContainer(const std::string& id);
  // Drops the container from the store and the API; waiters for its removal return.
  absl::Status Forget(Entry& e);
  // Runtimed containers and directories no stored container owns (a berthd
  // that died while removing one).
  void CollectOrphans();
  void HandleExit(const std::string& id, uint32_t exit_status, absl::Time exited_at);
  void HandleOom(const std::string& id);
  // An exec's TaskExit (daemon_exec.cpp).
  void HandleExecExit(const std::string& container_id, const std::string& exec_id,
                      uint32_t exit_status);
  // The container's exec ids, and forgetting them when it goes.
  std::vector<std::string> ExecIds(const std::string& container_id);
  void DropExecs(const std::string& container_id);
  void WatchEvents();
  void Reconcile();
  absl::StatusOr<nlohmann::json> BuildSpec(const Container& c, const spec::User& user);
  // Config.User and GroupAdd resolved in the image's /etc/passwd and
  // /etc/group, read from the container's snapshot (mounted read-only).
  absl::StatusOr<spec::User> LookupUserInSnapshot(const Container& c,
                                                  const std::vector<std::string>& group_add);
  std::string ContainerDir(const std::string& id) const;
  std::string ExecDir(const std::string& id) const;

  DaemonOptions options_;
  RuntimedClient& runtimed_;
  std::unique_ptr<ContainerStore> store_;
  EventLog events_;
  ImageService images_;

  std::mutex mu_;  // guards containers_
  std::map<std::string, std::shared_ptr<Entry>> containers_;

  // Runs fn on a thread of its own (exit handling); the destructor waits for them.
  void Spawn(std::function<void()> fn);

  // Users resolved per image id, User and GroupAdd (an image's layers never change).
  static constexpr size_t kMaxCachedUsers = 256;
  std::mutex users_mu_;  // guards users_
  std::map<std::string, spec::User> users_;

  std::mutex execs_mu_;  // guards execs_
  std::map<std::string, std::shared_ptr<Exec>> execs_;

  std::atomic<bool> stopping_{false};
  std::mutex spawned_mu_;
  std::condition_variable spawned_cv_;
  int spawned_ = 0;
  std::mutex events_mu_;
  grpc::ClientContext* events_context_ = nullptr;
  std::thread events_thread_;
};

}  // namespace berth::engine
