#include "engine/daemon/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <filesystem>
#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/log.h"
#include "common/status.h"
#include "containerd/events/task.pb.h"
#include "engine/daemon/log_config.h"
#include "engine/daemon/names.h"
#include "engine/spec/container_spec.h"

namespace berth::engine {
namespace {

constexpr absl::Duration kDrainTimeout = absl::Seconds(5);

// A protobuf Timestamp (full or lite); the zero time reads as now.
template <typename Timestamp>
absl::Time FromProto(const Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return absl::Now();
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

// "SIGTERM", "TERM", "term", "15" -> 15.
absl::StatusOr<int> ParseSignal(const std::string& text) {
  int number = 0;
  if (absl::SimpleAtoi(text, &number)) {
    if (number > 0 && number <= SIGRTMAX) return number;
  } else {
    std::string name = absl::AsciiStrToUpper(text);
    absl::string_view bare = name;
    absl::ConsumePrefix(&bare, "SIG");
    for (int s = 1; s < NSIG; ++s) {
      const char* abbrev = ::sigabbrev_np(s);
      if (abbrev != nullptr && bare == abbrev) return s;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("Invalid signal: ", text));
}

// Docker's exit code for a start that failed before the process ran
// (daemon/start.go translateContainerdStartErr), and the error kind.
int StartFailureExitCode(absl::string_view message) {
  if (absl::StrContains(message, "executable file not found") ||
      absl::StrContains(message, "no such file or directory")) {
    return 127;
  }
  if (absl::StrContains(message, "permission denied")) return 126;
  return 128;
}

// The body's fields berthd reads must have their types (dockerd's decoder
// refuses the whole request otherwise), in its words:
// "json: cannot unmarshal number into Go struct field Config.Hostname of type string".
absl::Status CheckTypes(
    const nlohmann::json& object, const char* go_struct,
    std::initializer_list<std::pair<const char*, nlohmann::json::value_t>> fields) {
  using V = nlohmann::json::value_t;
  for (const auto& [key, type] : fields) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) continue;
    bool ok = it->type() == type || (type == V::number_integer && it->is_number_integer()) ||
              (type == V::array && it->is_array() &&
               std::all_of(it->begin(), it->end(), [](const auto& x) { return x.is_string(); }));
    if (type == V::object && it->is_object()) {
      ok = std::all_of(it->begin(), it->end(), [](const auto& x) { return x.is_string(); });
    }
    if (!ok) {
      static const std::map<V, const char*> kGo = {{V::string, "string"},
                                                   {V::boolean, "bool"},
                                                   {V::number_integer, "int"},
                                                   {V::array, "[]string"},
                                                   {V::object, "map[string]string"}};
      return absl::InvalidArgumentError(absl::StrCat("json: cannot unmarshal ", it->type_name(),
                                                     " into Go struct field ", go_struct, ".", key,
                                                     " of type ", kGo.at(type)));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckCreateBody(const nlohmann::json& body) {
  using V = nlohmann::json::value_t;
  BERTH_RETURN_IF_ERROR(CheckTypes(body, "Config",
                                   {{"Image", V::string},
                                    {"Hostname", V::string},
                                    {"Domainname", V::string},
                                    {"User", V::string},
                                    {"WorkingDir", V::string},
                                    {"StopSignal", V::string},
                                    {"StopTimeout", V::number_integer},
                                    {"Tty", V::boolean},
                                    {"OpenStdin", V::boolean},
                                    {"StdinOnce", V::boolean},
                                    {"AttachStdin", V::boolean},
                                    {"AttachStdout", V::boolean},
                                    {"AttachStderr", V::boolean},
                                    {"Env", V::array},
                                    {"Cmd", V::array},
                                    {"Entrypoint", V::array},
                                    {"Labels", V::object}}));
  if (body.contains("HostConfig") && !body["HostConfig"].is_null()) {
    if (!body["HostConfig"].is_object()) {
      return absl::InvalidArgumentError(
          "json: cannot unmarshal into Go struct field ContainerConfigWrapper.HostConfig");
    }
    BERTH_RETURN_IF_ERROR(CheckTypes(body["HostConfig"], "HostConfig",
                                     {{"NetworkMode", V::string},
                                      {"AutoRemove", V::boolean},
                                      {"Init", V::boolean},
                                      {"Privileged", V::boolean},
                                      {"ReadonlyRootfs", V::boolean},
                                      {"GroupAdd", V::array},
                                      {"CapAdd", V::array},
                                      {"CapDrop", V::array},
                                      {"SecurityOpt", V::array},
                                      {"Binds", V::array}}));
  }
  return absl::OkStatus();
}

std::string LogDriver(const Container& c) {
  const nlohmann::json& log_config = c.host_config.value("LogConfig", nlohmann::json::object());
  return log_config.is_object() ? log_config.value("Type", "json-file") : "json-file";
}

// The stdio of a container's init process: its fifos in dir, and its log as
// its LogConfig says.
absl::StatusOr<ContainerIo::Options> InitIoOptions(const Container& c, const std::string& dir) {
  ContainerIo::Options options;
  options.dir = dir;
  options.tty = c.config.value("Tty", false);
  options.open_stdin = c.config.value("OpenStdin", false);
  if (LogDriver(c) == "none") return options;
  options.log_path = c.log_path;
  BERTH_ASSIGN_OR_RETURN(options.log_options,
                         JsonFileOptionsFor(c.host_config.value("LogConfig", nlohmann::json()),
                                            c.config.value("Labels", nlohmann::json::object()),
                                            c.config.value("Env", nlohmann::json::array())));
  return options;
}

}  // namespace

Daemon::Daemon(const DaemonOptions& options, RuntimedClient& runtimed,
               std::unique_ptr<ContainerStore> store)
    : options_(options),
      runtimed_(runtimed),
      store_(std::move(store)),
      images_(runtimed, &events_) {}

std::string Daemon::ContainerDir(const std::string& id) const {
  return absl::StrCat(options_.data_root, "/containers/", id);
}

std::string Daemon::ExecDir(const std::string& id) const {
  return absl::StrCat(options_.exec_root, "/containers/", id);
}

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Start(const DaemonOptions& options,
                                                      RuntimedClient& runtimed) {
  std::error_code ec;
  for (const std::string& dir :
       {options.data_root + "/containers", options.exec_root + "/containers"}) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return ErrnoError(ec.value(), absl::StrCat("create ", dir));
  }
  BERTH_ASSIGN_OR_RETURN(auto store, ContainerStore::Open(options.data_root + "/berthd.db"));
  BERTH_ASSIGN_OR_RETURN(std::vector<Container> saved, store->List());
  std::unique_ptr<Daemon> d(new Daemon(options, runtimed, std::move(store)));
  for (Container& c : saved) {
    auto e = std::make_shared<Entry>();
    e->c = std::move(c);
    d->containers_[e->c.id] = e;
  }
  d->events_thread_ = std::thread([raw = d.get()] { raw->WatchEvents(); });
  return d;
}

void Daemon::Spawn(std::function<void()> fn) {
  {
    std::lock_guard lock(spawned_mu_);
    ++spawned_;
  }
  std::thread([this, fn = std::move(fn)] {
    fn();
    std::lock_guard lock(spawned_mu_);
    --spawned_;
    spawned_cv_.notify_all();
  }).detach();
}

Daemon::~Daemon() {
  stopping_ = true;
  {
    std::lock_guard lock(events_mu_);
    if (events_context_ != nullptr) events_context_->TryCancel();
  }
  if (events_thread_.joinable()) events_thread_.join();
  std::unique_lock lock(spawned_mu_);
  spawned_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return spawned_ == 0; });
}

absl::StatusOr<std::shared_ptr<Daemon::Entry>> Daemon::Find(const std::string& ref) {
  std::lock_guard lock(mu_);
  auto not_found = absl::NotFoundError(absl::StrCat("No such container: ", ref));
  if (ref.empty()) return not_found;
  if (auto it = containers_.find(ref); it != containers_.end()) return it->second;
  std::string name(absl::StripPrefix(ref, "/"));
  for (const auto& [id, e] : containers_) {
    if (e->c.name == name) return e;
  }
  std::shared_ptr<Entry> found;
  for (const auto& [id, e] : containers_) {
    if (!absl::StartsWith(id, ref)) continue;
    if (found) {
      return absl::InvalidArgumentError(
          absl::StrCat("multiple IDs found with provided prefix: ", ref));
    }
    found = e;
  }
  if (!found) return not_found;
  return found;
}

absl::Status Daemon::Save(Entry& e) { return store_->Save(e.c); }

absl::StatusOr<nlohmann::json> Daemon::BuildSpec(const Container& c, const spec::User& user) {
  spec::SpecInput in;
  in.id = c.id;
  in.config = c.config;
  in.host_config = c.host_config;
  in.user = user;
  in.hostname_path = c.hostname_path;
  in.hosts_path = c.hosts_path;
  in.resolv_conf_path = c.resolv_conf_path;
  in.init_path = options_.init_path;
  in.cgroups_path = absl::StrCat(options_.cgroup_parent, "/", c.id);
  return spec::BuildContainerSpec(in);
}

absl::StatusOr<spec::User> Daemon::LookupUserInSnapshot(const Container& c,
                                                        const std::vector<std::string>& group_add) {
  api::MountsRequest mounts_request;
  mounts_request.set_key(c.id);
  api::MountsResponse mounts;
  BERTH_RETURN_IF_ERROR(
      FromGrpc(runtimed_.snapshots().Mounts(runtimed_.Context().get(), mounts_request, &mounts)));
  std::vector<std::string> lowers;
  for (const api::Mount& m : mounts.mounts()) {
    if (m.type() == "bind") lowers.push_back(m.source());
    for (const std::string& option : m.options()) {
      absl::string_view value = option;
      if (absl::ConsumePrefix(&value, "lowerdir=")) {
        for (absl::string_view l : absl::StrSplit(value, ':')) lowers.emplace_back(l);
      }
    }
  }
  std::string rootfs = lowers.empty() ? std::string() : lowers.front();
  std::string lookup_dir;
  std::error_code ec;
  if (lowers.size() > 1) {
    lookup_dir = ExecDir(c.id) + "-lookup";
    std::filesystem::create_directories(lookup_dir, ec);
    std::string data = absl::StrCat("lowerdir=", absl::StrJoin(lowers, ":"));
    if (::mount("overlay", lookup_dir.c_str(), "overlay", MS_RDONLY, data.c_str()) != 0) {
      absl::Status st = LastErrnoError(absl::StrCat("mount the image's layers at ", lookup_dir));
      std::filesystem::remove(lookup_dir, ec);
      return st;
    }
    rootfs = lookup_dir;
  }
  auto user = spec::LookupUser(rootfs, c.config.value("User", ""), group_add);
  if (!lookup_dir.empty()) {
    ::umount2(lookup_dir.c_str(), MNT_DETACH);
    std::filesystem::remove(lookup_dir, ec);
  }
  return user;
}

absl::StatusOr<std::string> Daemon::Create(const std::string& requested_name,
                                           const nlohmann::json& body) {
  if (!body.is_object()) {
    return absl::InvalidArgumentError("Config cannot be empty in order to create a container");
  }
  BERTH_RETURN_IF_ERROR(CheckCreateBody(body));
  Container c;
  c.config = body;
  c.config.erase("HostConfig");
  c.config.erase("NetworkingConfig");
  c.host_config = body.value("HostConfig", nlohmann::json::object());
  if (c.host_config.is_null()) c.host_config = nlohmann::json::object();
  // The defaults dockerd fills in (clients read them back from inspect).
  {
    auto log_config =
        ResolveLogConfig(c.host_config.value("LogConfig", nlohmann::json()), options_.log_opts);
    if (!log_config.ok()) return log_config.status();
    c.host_config["LogConfig"] = std::move(*log_config);
  }
  if (!c.host_config.contains("RestartPolicy") || !c.host_config["RestartPolicy"].is_object()) {
    c.host_config["RestartPolicy"] = {{"Name", "no"}, {"MaximumRetryCount", 0}};
  }
  std::string mode = c.host_config.value("NetworkMode", "");
  if (mode.empty() || mode == "default" || mode == "bridge") {
    c.host_config["NetworkMode"] = "none";
  } else if (mode != "none" && mode != "host") {
    return absl::InvalidArgumentError(absl::StrCat("network ", mode, " not found"));
  }
  std::string image_ref = c.config.value("Image", "");
  if (image_ref.empty()) {
    return absl::InvalidArgumentError("Config.Image must be set to create a container");
  }
  BERTH_ASSIGN_OR_RETURN(ResolvedImage image, images_.Resolve(image_ref));
  BERTH_RETURN_IF_ERROR(
      spec::MergeImageConfig(c.config, image.config.value("config", nlohmann::json::object())));
  c.image = image.id;
  c.created = absl::Now();
  c.id = GenerateContainerId();
  if (!c.config.contains("Hostname") || c.config["Hostname"].get<std::string>().empty()) {
    c.config["Hostname"] =
        spec::DefaultHostname(c.id, c.host_config["NetworkMode"].get<std::string>());
  }
  std::vector<std::string> command;
  for (const char* key : {"Entrypoint", "Cmd"}) {
    if (c.config.contains(key) && c.config[key].is_array()) {
      for (const auto& word : c.config[key]) command.push_back(word.get<std::string>());
    }
  }
  if (command.empty()) return absl::InvalidArgumentError("No command specified");
  c.path = command.front();
  c.args.assign(command.begin() + 1, command.end());

  std::string name = requested_name;
  if (!name.empty()) {
    BERTH_RETURN_IF_ERROR(ValidateContainerName(name));
    name = std::string(absl::StripPrefix(name, "/"));
  }
  {
    std::lock_guard lock(mu_);
    auto holder = [&](const std::string& candidate) -> std::string {
      for (const auto& [id, e] : containers_) {
        if (e->c.name == candidate) return id;
      }
      return "";
    };
    if (!name.empty()) {
      if (std::string id = holder(name); !id.empty()) {
        return absl::AlreadyExistsError(absl::StrCat(
            "Conflict. The container name \"/", name, "\" is already in use by container \"", id,
            "\". You have to remove (or rename) that container to be able to reuse that name."));
      }
    } else {
      for (int attempt = 0; name.empty() || !holder(name).empty(); ++attempt) {
        name = GenerateContainerName(attempt);
      }
    }
    c.name = name;
    // Reserve the name while the rest is made.
    auto e = std::make_shared<Entry>();
    e->c = c;
    e->removed = true;  // not visible as a container until stored
    containers_[c.id] = e;
  }
  auto forget = [&] {
    std::lock_guard lock(mu_);
    containers_.erase(c.id);
  };

  const std::string dir = ContainerDir(c.id);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    forget();
    return ErrnoError(ec.value(), absl::StrCat("create ", dir));
  }
  c.log_path = absl::StrCat(dir, "/", c.id, "-json.log");
  c.hostname_path = dir + "/hostname";
  c.hosts_path = dir + "/hosts";
  c.resolv_conf_path = dir + "/resolv.conf";
  auto undo = [&](absl::Status st) {
    api::DeleteContainerRequest del;
    del.set_id(c.id);
    api::DeleteContainerResponse ignored;
    (void)runtimed_.containers().Delete(runtimed_.Context().get(), del, &ignored);
    std::filesystem::remove_all(dir, ec);
    forget();
    return st;
  };
  absl::Status written = spec::WriteNetworkFiles(dir, c.config["Hostname"].get<std::string>(),
                                                 c.host_config["NetworkMode"].get<std::string>());
  if (!written.ok()) return undo(written);

  // The user and groups come from the image's /etc/passwd and /etc/group:
  // looked up in the container's snapshot the first time, then known for
  // the image (its layers never change), so the spec goes with the create.
  std::vector<std::string> group_add;
  if (c.host_config.contains("GroupAdd") && c.host_config["GroupAdd"].is_array()) {
    for (const auto& g : c.host_config["GroupAdd"]) {
      if (g.is_string()) group_add.push_back(g.get<std::string>());
    }
  }
  const std::string user_key =
      absl::StrCat(image.id, "\n", c.config.value("User", ""), "\n", absl::StrJoin(group_add, ","));
  std::optional<spec::User> user;
  {
    std::lock_guard lock(users_mu_);
    if (auto it = users_.find(user_key); it != users_.end()) user = it->second;
  }
  api::CreateContainerRequest create;
  api::Container* rc = create.mutable_container();
  rc->set_id(c.id);
  rc->set_image(image.name);
  rc->set_spec("{}");
  if (user) {
    auto spec = BuildSpec(c, *user);
    if (!spec.ok()) {
      forget();
      std::filesystem::remove_all(dir, ec);
      return spec.status();
    }
    rc->set_spec(spec->dump());
  }
  rc->mutable_runtime()->set_name(options_.runtime);
  rc->mutable_runtime()->set_binary_name(options_.runtime_binary);
  (*rc->mutable_labels())["berth.container.name"] = c.name;
  api::Container created;
  absl::Status st =
      FromGrpc(runtimed_.containers().Create(runtimed_.Context().get(), create, &created));
  if (!st.ok()) {
    forget();
    std::filesystem::remove_all(dir, ec);
    return st;
  }
  if (!user) {
    auto looked_up = LookupUserInSnapshot(c, group_add);
    if (!looked_up.ok()) return undo(looked_up.status());
    {
      std::lock_guard lock(users_mu_);
      if (users_.size() >= kMaxCachedUsers) users_.clear();
      users_[user_key] = *looked_up;
    }
    auto spec = BuildSpec(c, *looked_up);
    if (!spec.ok()) return undo(spec.status());
    api::UpdateContainerRequest update;
    *update.mutable_container() = created;
    update.mutable_container()->set_spec(spec->dump());
    api::Container updated;
    st = FromGrpc(runtimed_.containers().Update(runtimed_.Context().get(), update, &updated));
    if (!st.ok()) return undo(st);
  }
  st = store_->Add(c);
  if (!st.ok()) return undo(st);
  std::lock_guard lock(mu_);
  auto& e = containers_[c.id];
  std::lock_guard entry_lock(e->mu);
  e->c = c;
  e->removed = false;
  LogEvent(c, "create");
  LogInfo("container {} created as {}", c.id, c.name);
  return c.id;
}

absl::StatusOr<bool> Daemon::StartContainer(const std::string& ref) {
  BERTH_ASSIGN_OR_RETURN(auto e, Find(ref));
  absl::Status started;
  {
    std::lock_guard op(e->op);
    {
      std::lock_guard lock(e->mu);
      if (e->removed || e->c.state.removing) {
        return absl::FailedPreconditionError(
            absl::StrCat("container ", e->c.id, " is marked for removal and cannot be started"));
      }
      if (e->c.state.running) return false;
    }
    started = StartLocked(*e);
  }
  if (!started.ok() && e->c.host_config.value("AutoRemove", false)) {
    // As dockerd: a container that was to remove itself when done is removed
    // when it cannot start (a `run --rm` waiting for that returns).
    if (absl::Status removed = RemoveEntry(e, true); !removed.ok()) {
      LogWarn("remove container {} (AutoRemove) after its start failed: {}", e->c.id,
              removed.message());
    }
  }
  BERTH_RETURN_IF_ERROR(started);
  return true;
}

absl::Status Daemon::StartLocked(Entry& e) {
  const std::string id = e.c.id;
  BERTH_ASSIGN_OR_RETURN(ContainerIo::Options io_options, InitIoOptions(e.c, ExecDir(id)));
  BERTH_ASSIGN_OR_RETURN(auto io, ContainerIo::Open(io_options, e.hub));
  api::CreateTaskRequest create;
  create.set_container_id(id);
  *create.mutable_stdio() = io->Stdio();
  api::CreateTaskResponse created;
  const absl::Time begin = absl::Now();
  absl::Status st = FromGrpc(runtimed_.tasks().Create(runtimed_.Context().get(), create, &created));
  if (absl::IsAlreadyExists(st)) {
    // A task left from the last run (berthd died before deleting it): only
    // then the extra round trip, not on every start.
    DeleteTask(id);
    st = FromGrpc(runtimed_.tasks().Create(runtimed_.Context().get(), create, &created));
  }
  const absl::Time task_created = absl::Now();
  if (st.ok()) {
    io->Start();
    api::StartTaskRequest start;
    start.set_container_id(id);
    api::StartTaskResponse started;
    st = FromGrpc(runtimed_.tasks().Start(runtimed_.Context().get(), start, &started));
    if (!st.ok()) DeleteTask(id);
  }
  if (!st.ok()) {
    // The fifos of a run that never was.
    io->RemoveFifos();
    io.reset();
  }
  std::lock_guard lock(e.mu);
  if (!st.ok()) {
    e.c.state.error = std::string(st.message());
    e.c.state.exit_code = StartFailureExitCode(st.message());
    (void)Save(e);
    e.hub->EndRun();
    if (e.c.state.exit_code != 128) return absl::InvalidArgumentError(st.message());
    return st;
  }
  e.io = std::move(io);
  e.cv.notify_all();  // WaitForStdin
  e.c.state.running = true;
  e.c.state.paused = false;
  e.c.state.oom_killed = false;
  e.c.state.pid = static_cast<int>(created.pid());
  e.c.state.exit_code = 0;
  e.c.state.error.clear();
  e.c.state.started_at = absl::Now();
  e.c.has_been_started = true;
  LogEvent(e.c, "start");
  BERTH_RETURN_IF_ERROR(Save(e));
  LogInfo("container {} started, pid {} (task created in {}, started in {})", id, created.pid(),
          absl::FormatDuration(task_created - begin),
          absl::FormatDuration(absl::Now() - task_created));
  return absl::OkStatus();
}

absl::Status Daemon::SendSignal(Entry& e, int signal) {
  api::KillTaskRequest kill;
  kill.set_container_id(e.c.id);
  kill.set_signal(static_cast<uint32_t>(signal));
  api::KillTaskResponse ignored;
  absl::Status st = FromGrpc(runtimed_.tasks().Kill(runtimed_.Context().get(), kill, &ignored));
  if (absl::IsNotFound(st)) return absl::OkStatus();  // it is exiting
  BERTH_RETURN_IF_ERROR(st);
  // As dockerd: a paused container gets the signal once it is resumed.
  std::lock_guard lock(e.mu);
  LogEvent(e.c, "kill", {{"signal", std::to_string(signal)}});
  if (e.c.state.paused && e.c.state.running) {
    api::ResumeTaskRequest resume;
    resume.set_container_id(e.c.id);
    api::ResumeTaskResponse resumed;
    absl::Status r =
        FromGrpc(runtimed_.tasks().Resume(runtimed_.Context().get(), resume, &resumed));
    if (!r.ok()) {
      LogWarn("cannot unpause container {}: {}", e.c.id, r.message());
    } else {
      e.c.state.paused = false;
      (void)Save(e);
    }
  }
  return absl::OkStatus();
}

bool Daemon::WaitExit(Entry& e, absl::Duration timeout) {
  std::unique_lock lock(e.mu);
  auto done = [&] { return !e.c.state.running; };
  if (timeout < absl::ZeroDuration()) {
    e.cv.wait(lock, done);
    return true;
  }
  return e.cv.wait_for(lock, absl::ToChronoMilliseconds(timeout), done);
}

absl::StatusOr<bool> Daemon::Stop(const std::string& ref, std::optional<int> timeout) {
  BERTH_ASSIGN_OR_RETURN(auto e, Find(ref));
  int stop_signal = SIGTERM;
  int seconds = 10;
  {
    std::lock_guard lock(e->mu);
    if (!e->c.state.running) return false;
    std::string name = e->c.config.value("StopSignal", "");
    if (!name.empty()) {
      BERTH_ASSIGN_OR_RETURN(stop_signal, ParseSignal(name));
    }
    if (e->c.config.contains("StopTimeout") && e->c.config["StopTimeout"].is_number_integer()) {
      seconds = e->c.config["StopTimeout"].get<int>();
    }
  }
  if (timeout) seconds = *timeout;
  auto stopped = [&] {
    std::lock_guard lock(e->mu);
    LogEvent(e->c, "stop");
    return true;
  };
  {
    std::lock_guard op(e->op);
    BERTH_RETURN_IF_ERROR(SendSignal(*e, stop_signal));
  }
  if (WaitExit(*e, seconds < 0 ? absl::InfiniteDuration() : absl::Seconds(seconds))) {
    return stopped();
  }
  LogInfo("container {} did not stop within {}s of signal {}: killing it", e->c.id, seconds,
          stop_signal);
  {
    std::lock_guard op(e->op);
    BERTH_RETURN_IF_ERROR(SendSignal(*e, SIGKILL));
  }
  if (!WaitExit(*e, absl::Seconds(30))) {
    return absl::DeadlineExceededError(
        absl::StrCat("container ", e->c.id, " did not exit 30 s after SIGKILL"));
  }
  return stopped();
}

absl::Status Daemon::Restart(const std::string& ref, std::optional<int> timeout) {
  BERTH_ASSIGN_OR_RETURN(bool stopped, Stop(ref, timeout));
  (void)stopped;
  BERTH_ASSIGN_OR_RETURN(auto e, Find(ref));
  {
    std::lock_guard op(e->op);
    std::lock_guard lock(e->mu);
    if (e->c.state.running) return absl::OkStatus();
  }
  BERTH_ASSIGN_OR_RETURN(bool started, StartContainer(e->c.id));
  (void)started;
  std::lock_guard lock(e->mu);
  LogEvent(e->c, "restart");
  return absl::OkStatus();
}

absl::Status Daemon::Kill(const std::string& ref, const std::string& signal_text) {
  BERTH_ASSIGN_OR_RETURN(auto e, Find(ref));
  int signal = SIGKILL;
  if (!signal_text.empty()) {
    BERTH_ASSIGN_OR_RETURN(signal, ParseSignal(signal_text));
  }
  std::lock_guard op(e->op);
  {
    std::lock_guard lock(e->mu);
    if (!e->c.state.running) {
      return absl::FailedPreconditionError(
          absl::StrCat("Cannot kill container: ", ref, ": Container ", e->c.id, " is not running"));
    }
  }
  return SendSignal(*e, signal);
}

absl::StatusOr<WaitResult> Daemon::Wait(const std::string& ref, WaitCondition condition,
                                        const std::function<bool()>& cancelled) {
  BERTH_ASSIGN_OR_RETURN(auto e, Find(ref));
  std::unique_lock lock(e->mu);
  const uint64_t exits_before = e->exits;
  auto done = [&] {
    switch (condition) {
      case WaitCondition::kNotRunning:
        return !e->c.state.running || e->removed;
      case WaitCondition::kNextExit:
        return e->exits > exits_before || e->removed;
      case WaitCondition::kRemoved:
        return e->removed;
    }
    return true;
  };
  while (!done()) {
    e->cv.wait_for(lock, std::chrono::milliseconds(250));
    if (done()) break;
    // The client's poll, outside the container's lock.
    lock.unlock();
    const bool gone = cancelled();
    lock.lock();
    if (gone && !done()) return absl::CancelledError("the client went away");
  }
  WaitResult result;
  result.status_code = e->c.state.exit_code;
  result.error = e->c.state.error;
  return result;
}

void Daemon::HandleOom(const std::string& id) {
  std::shared_ptr<Entry> e;
  {
    std::lock_guard lock(mu_);
    auto it = containers_.find(id);
    if (it == containers_.end()) return;
    e = it->second;
  }
  std::lock_guard lock(e->mu);
  e->c.state.oom_killed = true;
  LogEvent(e->c, "oom");
}

void Daemon::DeleteTask(const std::string& id) {
  api::DeleteTaskRequest del;
  del.set_container_id(id);
  api::DeleteTaskResponse deleted;
  absl::Status st = FromGrpc(runtimed_.tasks().Delete(runtimed_.Context().get(), del, &deleted));
  if (!st.ok() && !absl::IsNotFound(st)) LogWarn("delete the task of {}: {}", id, st.message());
}

absl::Status Daemon::ReleaseContainer(const std::string& id) {
  DeleteTask(id);
  api::DeleteContainerRequest del;
  del.set_id(id);
  api::DeleteContainerResponse ignored;
  absl::Status st =
      FromGrpc(runtimed_.containers().Delete(runtimed_.Context().get(), del, &ignored));
  if (!st.ok() && !absl::IsNotFound(st)) return Annotate(st, absl::StrCat("remove container ", id));
  std::error_code ec;
  std::filesystem::remove_all(ContainerDir(id), ec);
  std::filesystem::remove_all(ExecDir(id), ec);
  return absl::OkStatus();
}

absl::Status Daemon::Forget(Entry& e) {
  BERTH_RETURN_IF_ERROR(store_->Remove(e.c.id));
  {
    std::lock_guard lock(mu_);
    containers_.erase(e.c.id);
  }
  DropExecs(e.c.id);
  std::lock_guard lock(e.mu);
  e.removed = true;
  LogEvent(e.c, "destroy");
  e.cv.notify_all();
  return absl::OkStatus();
}

void Daemon::HandleExit(const std::string& id, uint32_t exit_status, absl::Time exited_at) {
  std::shared_ptr<Entry> e;
  {
    std::lock_guard lock(mu_);
    auto it = containers_.find(id);
    if (it == containers_.end()) return;
    e = it->second;
  }
  std::lock_guard op(e->op);
  std::unique_ptr<ContainerIo> io;
  {
    std::lock_guard lock(e->mu);
    if (!e->c.state.running) return;  // seen already
    io = std::move(e->io);
  }
  if (io && !io->WaitDrained(kDrainTimeout)) {
    LogWarn("container {}: its output did not end {} after it exited", id,
            absl::FormatDuration(kDrainTimeout));
  }
  io.reset();
  // Waiters learn of the exit first; the task is deleted after, still under
  // op, so a start or a remove that follows waits for that.
  bool auto_remove = false;
  {
    std::lock_guard lock(e->mu);
    e->c.state.running = false;
    e->c.state.paused = false;
    e->c.state.pid = 0;
    e->c.state.exit_code = static_cast<int>(exit_status);
    e->c.state.finished_at = exited_at;
    const absl::Time started = e->c.state.started_at;
    const int64_t ran = started == absl::InfinitePast()
                            ? 0
                            : std::max<int64_t>(0, absl::ToInt64Seconds(exited_at - started));
    LogEvent(e->c, "die",
             {{"exitCode", std::to_string(exit_status)}, {"execDuration", std::to_string(ran)}});
    auto_remove = e->c.host_config.value("AutoRemove", false);
    if (auto_remove) e->c.state.removing = true;
    if (absl::Status saved = Save(*e); !saved.ok()) {
      LogError("save container {}: {}", id, saved.message());
    }
    e->exits++;
    e->hub->EndRun();
    e->cv.notify_all();
  }
  LogInfo("container {} exited with {} ({} after the exit)", id, exit_status,
          absl::FormatDuration(absl::Now() - exited_at));
  if (!auto_remove) {
    DeleteTask(id);
    return;
  }
  // AutoRemove: gone from the API at once; what runtimed holds for it goes
  // after (a berthd that dies in between collects it at its next start).
  if (absl::Status st = Forget(*e); !st.ok()) {
    LogWarn("remove container {} (AutoRemove): {}", id, st.message());
    return;
  }
  if (absl::Status st = ReleaseContainer(id); !st.ok()) {
    LogWarn("remove container {} (AutoRemove): {}", id, st.message());
  }
}

absl::Status Daemon::Remove(const std::string& ref, bool force) {
  BERTH_ASSIGN_OR_RETURN(auto e, Find(ref));
  return RemoveEntry(e, force);
}

absl::Status Daemon::RemoveEntry(const std::shared_ptr<Entry>& e, bool force) {
  const std::string id = e->c.id;
  {
    std::lock_guard lock(e->mu);
    if (e->removed) return absl::OkStatus();
    if (e->c.state.running && !force) {
      return absl::FailedPreconditionError(
          absl::StrCat("You cannot remove a running container ", id,
                       ". Stop the container before attempting removal or force remove"));
    }
  }
  if (force) {
    {
      std::lock_guard op(e->op);
      bool running;
      {
        std::lock_guard lock(e->mu);
        running = e->c.state.running;
      }
      if (running) BERTH_RETURN_IF_ERROR(SendSignal(*e, SIGKILL));
    }
    if (!WaitExit(*e, absl::Seconds(30))) {
      return absl::DeadlineExceededError(
          absl::StrCat("Could not kill running container ", id, ", cannot remove"));
    }
  }
  std::lock_guard op(e->op);
  {
    std::lock_guard lock(e->mu);
    if (e->removed) return absl::OkStatus();
    if (e->c.state.running) {
      return absl::FailedPreconditionError(
          absl::StrCat("You cannot remove a running container ", id,
                       ". Stop the container before attempting removal or force remove"));
    }
    e->c.state.removing = true;
  }
  if (absl::Status st = ReleaseContainer(id); !st.ok()) {
    std::lock_guard lock(e->mu);
    e->c.state.removing = false;
    return st;
  }
  BERTH_RETURN_IF_ERROR(Forget(*e));
  LogInfo("container {} removed", id);
  return absl::OkStatus();
}

absl::StatusOr<nlohmann::ordered_json> Daemon::Inspect(const std::string& ref) {
  BERTH_ASSIGN_OR_RETURN(auto e, Find(ref));
  Container c;
  {
    std::lock_guard lock(e->mu);
    if (e->removed) return absl::NotFoundError(absl::StrCat("No such container: ", ref));
    c = e->c;
  }
  nlohmann::json graph = nlohmann::json::object();
  api::MountsRequest request;
  request.set_key(c.id);
  api::MountsResponse mounts;
  if (runtimed_.snapshots().Mounts(runtimed_.Context().get(), request, &mounts).ok()) {
    for (const api::Mount& m : mounts.mounts()) {
      for (const std::string& option : m.options()) {
        std::pair<std::string, std::string> kv = absl::StrSplit(option, absl::MaxSplits('=', 1));
        if (kv.first == "lowerdir") graph["LowerDir"] = kv.second;
        if (kv.first == "upperdir") graph["UpperDir"] = kv.second;
        if (kv.first == "workdir") graph["WorkDir"] = kv.second;
      }
    }
  }
  nlohmann::ordered_json out = c.Inspect(graph);
  if (std::vector<std::string> execs = ExecIds(c.id); !execs.empty()) out["ExecIDs"] = execs;
  return out;
}

absl::StatusOr<nlohmann::ordered_json> Daemon::List(bool all, int limit,
                                                    const nlohmann::json& filters) {
  // Docker's filters: {"key": {"value": true}} (or the old {"key": ["value"]}).
  std::map<std::string, std::vector<std::string>> wanted;
  if (filters.is_object()) {
    for (const auto& [key, values] : filters.items()) {
      static const std::set<std::string> kKnown = {"status", "name",     "id",
                                                   "label",  "ancestor", "exited"};
      if (!kKnown.count(key))
        return absl::InvalidArgumentError(absl::StrCat("invalid filter '", key, "'"));
      if (values.is_object()) {
        for (const auto& [value, on] : values.items()) wanted[key].push_back(value);
      } else if (values.is_array()) {
        for (const auto& value : values) wanted[key].push_back(value.get<std::string>());
      }
    }
  }
  for (const std::string& status : wanted["status"]) {
    static const std::set<std::string> kStates = {"created", "restarting", "running", "removing",
                                                  "paused",  "exited",     "dead"};
    if (!kStates.count(status)) {
      return absl::InvalidArgumentError(absl::StrCat("Invalid filter 'status=", status, "'"));
    }
  }
  std::set<std::string> ancestors;
  for (const std::string& a : wanted["ancestor"]) {
    if (auto image = images_.Resolve(a); image.ok()) ancestors.insert(image->id);
  }
  std::vector<Container> snapshot;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, e] : containers_) {
      std::lock_guard entry_lock(e->mu);
      if (!e->removed) snapshot.push_back(e->c);
    }
  }
  std::sort(snapshot.begin(), snapshot.end(),
            [](const Container& a, const Container& b) { return a.created > b.created; });
  auto any_of = [](const std::vector<std::string>& values, auto&& pred) {
    return values.empty() || std::any_of(values.begin(), values.end(), pred);
  };
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const Container& c : snapshot) {
    if (!all && limit <= 0 && !c.state.running && wanted["status"].empty()) continue;
    const std::string status = c.state.Status();
    if (!any_of(wanted["status"], [&](const std::string& s) { return s == status; })) continue;
    if (!any_of(wanted["id"], [&](const std::string& s) { return absl::StartsWith(c.id, s); })) {
      continue;
    }
    if (!any_of(wanted["name"], [&](const std::string& s) {
          try {
            return std::regex_search("/" + c.name, std::regex(s));
          } catch (const std::regex_error&) {
            return false;
          }
        })) {
      continue;
    }
    if (!any_of(wanted["exited"], [&](const std::string& s) {
          return !c.state.running && c.has_been_started && std::to_string(c.state.exit_code) == s;
        })) {
      continue;
    }
    nlohmann::json labels = c.config.value("Labels", nlohmann::json::object());
    if (!any_of(wanted["label"], [&](const std::string& s) {
          std::pair<std::string, std::string> kv = absl::StrSplit(s, absl::MaxSplits('=', 1));
          if (!labels.is_object() || !labels.contains(kv.first)) return false;
          return s.find('=') == std::string::npos || labels[kv.first] == kv.second;
        })) {
      continue;
    }
    if (!wanted["ancestor"].empty()) {
      const std::string given = c.config.value("Image", "");
      bool match = ancestors.count(c.image) > 0 ||
                   std::find(wanted["ancestor"].begin(), wanted["ancestor"].end(), given) !=
                       wanted["ancestor"].end();
      if (!match) continue;
    }
    out.push_back(c.Summary(c.config.value("Image", "")));
    if (limit > 0 && static_cast<int>(out.size()) >= limit) break;
  }
  return out;
}

absl::StatusOr<Daemon::AttachTarget> Daemon::ForAttach(const std::string& ref) {
  BERTH_ASSIGN_OR_RETURN(auto e, Find(ref));
  std::lock_guard lock(e->mu);
  if (e->c.state.paused) {
    return absl::FailedPreconditionError(
        absl::StrCat("container ", ref, " is paused, unpause the container before attach"));
  }
  AttachTarget t;
  t.id = e->c.id;
  t.tty = e->c.config.value("Tty", false);
  t.open_stdin = e->c.config.value("OpenStdin", false);
  t.stdin_once = e->c.config.value("StdinOnce", false);
  t.hub = e->hub;
  LogEvent(e->c, "attach");
  return t;
}

absl::StatusOr<Daemon::LogTarget> Daemon::ForLogs(const std::string& ref) {
  BERTH_ASSIGN_OR_RETURN(auto e, Find(ref));
  std::lock_guard lock(e->mu);
  if (LogDriver(e->c) == "none") {
    return absl::UnimplementedError("configured logging driver does not support reading");
  }
  return LogTarget{e->c.id, e->c.log_path, e->c.config.value("Tty", false)};
}

bool Daemon::Running(const std::string& id) {
  auto e = Find(id);
  if (!e.ok()) return false;
  std::lock_guard lock((*e)->mu);
  return !(*e)->removed && (*e)->c.state.running;
}

bool Daemon::WaitForStdin(Entry& e, std::unique_lock<std::mutex>& lock) {
  // A client attaches before the start (docker run -i) and may send stdin at
  // once: it waits for the run's stdin, as long as the container may still start.
  const uint64_t exits = e.exits;
  e.cv.wait_for(lock, std::chrono::seconds(60),
                [&] { return (e.io && e.io->StdinFd() >= 0) || e.removed || e.exits != exits; });
  return e.io && e.io->StdinFd() >= 0;
}

absl::Status Daemon::WriteStdin(const std::string& id, const std::string& data) {
  BERTH_ASSIGN_OR_RETURN(auto e, Find(id));
  UniqueFd fd;
  {
    std::unique_lock lock(e->mu);
    if (!WaitForStdin(*e, lock)) return absl::FailedPreconditionError("stdin is not open");
    fd = UniqueFd(::fcntl(e->io->StdinFd(), F_DUPFD_CLOEXEC, 0));
    if (!fd) return LastErrnoError("dup container stdin");
  }
  // Written outside the lock: a full pipe must not stop the exit's handling.
  return WriteToStdin(fd.Get(), data, [&] {
    std::lock_guard lock(e->mu);
    return e->c.state.running && e->io && e->io->StdinFd() >= 0;
  });
}

absl::Status Daemon::CloseStdin(const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(auto e, Find(id));
  {
    std::unique_lock lock(e->mu);
    if (!WaitForStdin(*e, lock)) return absl::OkStatus();
    e->io->CloseStdin();
  }
  api::CloseIORequest request;
  request.set_container_id(id);
  api::CloseIOResponse ignored;
  return FromGrpc(runtimed_.tasks().CloseIO(runtimed_.Context().get(), request, &ignored));
}

Daemon::Counts Daemon::CountContainers() {
  Counts counts;
  std::lock_guard lock(mu_);
  for (const auto& [id, e] : containers_) {
    std::lock_guard entry_lock(e->mu);
    if (e->removed) continue;
    counts.total++;
    if (e->c.state.paused) {
      counts.paused++;
    } else if (e->c.state.running) {
      counts.running++;
    } else {
      counts.stopped++;
    }
  }
  return counts;
}

bool Daemon::ImageInUse(const std::string& image_id) {
  std::lock_guard lock(mu_);
  for (const auto& [id, e] : containers_) {
    std::lock_guard entry_lock(e->mu);
    if (!e->removed && e->c.image == image_id) return true;
  }
  return false;
}

void Daemon::Reconcile() {
  std::vector<std::shared_ptr<Entry>> running;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, e] : containers_) {
      std::lock_guard entry_lock(e->mu);
      if (e->c.state.running) running.push_back(e);
    }
  }
  for (const auto& e : running) {
    api::TaskStateRequest request;
    request.set_container_id(e->c.id);
    api::TaskState state;
    absl::Status st = FromGrpc(runtimed_.tasks().State(runtimed_.Context().get(), request, &state));
    if (st.ok() && state.status() != api::TaskState::STOPPED) {
      std::lock_guard op(e->op);
      std::lock_guard lock(e->mu);
      if (!e->io) {
        auto io_options = InitIoOptions(e->c, ExecDir(e->c.id));
        if (io_options.ok()) io_options->reopen = true;
        auto io = io_options.ok()
                      ? ContainerIo::Open(*io_options, e->hub)
                      : absl::StatusOr<std::unique_ptr<ContainerIo>>(io_options.status());
        if (io.ok()) {
          (*io)->Start();
          e->io = std::move(*io);
        } else {
          LogWarn("container {}: reopen its output: {}", e->c.id, io.status().message());
        }
      }
      continue;
    }
    if (st.ok() || absl::IsNotFound(st)) {
      uint32_t code = st.ok() ? state.exit_status() : 255;
      absl::Time at = st.ok() ? FromProto(state.exited_at()) : absl::Now();
      Spawn([this, id = e->c.id, code, at] { HandleExit(id, code, at); });
    } else {
      LogDebug("container {}: task state: {}", e->c.id, st.message());
    }
  }
}

void Daemon::CollectOrphans() {
  auto known = [&](const std::string& id) {
    std::lock_guard lock(mu_);
    return containers_.count(id) != 0;
  };
  api::ListContainersResponse list;
  absl::Status st = FromGrpc(
      runtimed_.containers().List(runtimed_.Context().get(), api::ListContainersRequest(), &list));
  if (!st.ok()) {
    LogWarn("collect orphaned containers: {}", st.message());
    return;
  }
  for (const api::Container& c : list.containers()) {
    if (known(c.id())) continue;
    LogInfo("container {}: in berth-runtimed but not in berthd's store; removing it", c.id());
    api::KillTaskRequest kill;
    kill.set_container_id(c.id());
    kill.set_signal(SIGKILL);
    kill.set_all(true);
    api::KillTaskResponse killed;
    if (runtimed_.tasks().Kill(runtimed_.Context().get(), kill, &killed).ok()) {
      for (int i = 0; i < 100; ++i) {
        api::TaskStateRequest request;
        request.set_container_id(c.id());
        api::TaskState state;
        if (!runtimed_.tasks().State(runtimed_.Context().get(), request, &state).ok() ||
            state.status() == api::TaskState::STOPPED) {
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    if (absl::Status released = ReleaseContainer(c.id()); !released.ok()) {
      LogWarn("remove orphaned container {}: {}", c.id(), released.message());
    }
  }
  std::error_code ec;
  for (const std::string& root :
       {options_.data_root + "/containers", options_.exec_root + "/containers"}) {
    for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
      std::string name = entry.path().filename().string();
      if (known(name.substr(0, 64))) continue;
      // "<id>-lookup": the image's layers, mounted read-only while one was created.
      if (name.size() > 64) ::umount2(entry.path().c_str(), MNT_DETACH);
      std::filesystem::remove_all(entry.path(), ec);
    }
  }
}

void Daemon::WatchEvents() {
  CollectOrphans();
  while (!stopping_) {
    grpc::ClientContext context;
    context.AddMetadata("berth-namespace", kRuntimedNamespace);
    {
      std::lock_guard lock(events_mu_);
      if (stopping_) return;
      events_context_ = &context;
    }
    api::SubscribeRequest request;
    request.add_topics("/tasks/exit");
    request.add_topics("/tasks/oom");
    request.add_namespaces(kRuntimedNamespace);
    auto reader = runtimed_.events().Subscribe(&context, request);
    // The server sends its metadata once subscribed: exits from then on arrive
    // as events; Reconcile catches up on those before (a failed call reads nothing).
    reader->WaitForInitialMetadata();
    {
      Reconcile();
      api::Envelope envelope;
      while (reader->Read(&envelope)) {
        if (envelope.topic() == "/tasks/exit") {
          containerd::events::TaskExit exit;
          if (!exit.ParseFromString(envelope.event())) continue;
          if (!exit.id().empty() && exit.id() != exit.container_id()) {
            Spawn([this, id = exit.container_id(), exec_id = exit.id(), code = exit.exit_status()] {
              HandleExecExit(id, exec_id, code);
            });
            continue;
          }
          absl::Time at = FromProto(exit.exited_at());
          Spawn([this, id = exit.container_id(), code = exit.exit_status(), at] {
            HandleExit(id, code, at);
          });
        } else if (envelope.topic() == "/tasks/oom") {
          containerd::events::TaskOOM oom;
          if (oom.ParseFromString(envelope.event())) HandleOom(oom.container_id());
        }
      }
    }
    grpc::Status status = reader->Finish();
    {
      std::lock_guard lock(events_mu_);
      events_context_ = nullptr;
    }
    if (stopping_) return;
    LogWarn("berth-runtimed events: {}; resubscribing", status.error_message());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

}  // namespace berth::engine
