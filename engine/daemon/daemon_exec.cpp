// docker exec: processes added to a running container's task (Tasks.Exec and
// Tasks.Start with the exec id), their stdio through ContainerIo's fifos
// (EXEC_ROOT/containers/<id>/exec-<exec id>-stdout...), their exits from the
// TaskExit events whose id is the exec id.
//
// The process is the container's OCI spec "process" with what the exec sets
// replaced, as dockerd's ContainerExecStart does: args, env (the container's
// plus the exec's Env, TERM=xterm with a tty), cwd, terminal, and the user
// (resolved in the running container's root, /proc/<pid>/root, with the
// container's GroupAdd). Privileged gives the process every capability the
// host grants; the container's seccomp profile and other confinement stay
// (the runtime applies the container's, as runc exec does).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status.h"
#include "engine/daemon/daemon.h"
#include "engine/daemon/names.h"
#include "engine/spec/capabilities.h"
#include "engine/spec/host_info.h"
#include "engine/spec/user_lookup.h"

namespace berth::engine {
namespace {

constexpr absl::Duration kExecDrainTimeout = absl::Seconds(5);

absl::Status CheckExecBody(const nlohmann::json& body) {
  if (!body.is_object()) return absl::InvalidArgumentError("No exec command specified");
  auto strings = [&](const char* key) {
    auto it = body.find(key);
    return it == body.end() || it->is_null() ||
           (it->is_array() &&
            std::all_of(it->begin(), it->end(), [](const auto& x) { return x.is_string(); }));
  };
  for (const char* key : {"Cmd", "Env"}) {
    if (!strings(key)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "json: cannot unmarshal into Go struct field ExecConfig.", key, " of type []string"));
    }
  }
  for (const char* key : {"User", "WorkingDir", "DetachKeys"}) {
    if (body.contains(key) && !body[key].is_null() && !body[key].is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "json: cannot unmarshal into Go struct field ExecConfig.", key, " of type string"));
    }
  }
  for (const char* key : {"Tty", "AttachStdin", "AttachStdout", "AttachStderr", "Privileged"}) {
    if (body.contains(key) && !body[key].is_null() && !body[key].is_boolean()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "json: cannot unmarshal into Go struct field ExecConfig.", key, " of type bool"));
    }
  }
  return absl::OkStatus();
}

std::string GetString(const nlohmann::json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool GetBool(const nlohmann::json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && it->is_boolean() && it->get<bool>();
}

// "K=V" entries of `add` replace those of env with the same K, or are appended.
void ReplaceOrAppend(std::vector<std::string>& env, const std::vector<std::string>& add) {
  for (const std::string& kv : add) {
    std::string key = kv.substr(0, kv.find('='));
    auto same = std::find_if(env.begin(), env.end(),
                             [&](const std::string& e) { return e.substr(0, e.find('=')) == key; });
    if (same != env.end()) {
      *same = kv;
    } else {
      env.push_back(kv);
    }
  }
}

}  // namespace

nlohmann::ordered_json Exec::Inspect() {
  std::lock_guard lock(mu);
  nlohmann::ordered_json process = {{"tty", tty}, {"entrypoint", entrypoint}};
  process["arguments"] = arguments;
  process["privileged"] = privileged;
  if (!user.empty()) process["user"] = user;
  nlohmann::ordered_json out;
  out["ID"] = id;
  out["Running"] = running;
  out["ExitCode"] = exit_code ? nlohmann::ordered_json(*exit_code) : nlohmann::ordered_json();
  out["ProcessConfig"] = std::move(process);
  out["OpenStdin"] = attach_stdin;
  out["OpenStderr"] = attach_stderr;
  out["OpenStdout"] = attach_stdout;
  out["CanRemove"] = exit_code.has_value();
  out["ContainerID"] = container_id;
  out["DetachKeys"] = detach_keys;
  out["Pid"] = pid;
  return out;
}

absl::StatusOr<std::string> Daemon::CreateExec(const std::string& ref, const nlohmann::json& body) {
  BERTH_RETURN_IF_ERROR(CheckExecBody(body));
  BERTH_ASSIGN_OR_RETURN(auto e, Find(ref));
  auto ex = std::make_shared<Exec>();
  {
    std::lock_guard lock(e->mu);
    if (e->removed || !e->c.state.running) {
      return absl::FailedPreconditionError(absl::StrCat("Container ", e->c.id, " is not running"));
    }
    if (e->c.state.paused) {
      return absl::FailedPreconditionError(
          absl::StrCat("Container ", e->c.id, " is paused, unpause the container before exec"));
    }
    ex->container_id = e->c.id;
  }
  std::vector<std::string> cmd;
  if (body.contains("Cmd") && body["Cmd"].is_array()) {
    for (const auto& word : body["Cmd"]) cmd.push_back(word.get<std::string>());
  }
  if (cmd.empty()) return absl::InvalidArgumentError("No exec command specified");
  ex->id = GenerateContainerId();
  ex->entrypoint = cmd.front();
  ex->arguments.assign(cmd.begin() + 1, cmd.end());
  if (body.contains("Env") && body["Env"].is_array()) {
    for (const auto& kv : body["Env"]) ex->env.push_back(kv.get<std::string>());
  }
  ex->user = GetString(body, "User");
  ex->working_dir = GetString(body, "WorkingDir");
  ex->detach_keys = GetString(body, "DetachKeys");
  ex->tty = GetBool(body, "Tty");
  ex->attach_stdin = GetBool(body, "AttachStdin");
  ex->attach_stdout = GetBool(body, "AttachStdout");
  ex->attach_stderr = GetBool(body, "AttachStderr");
  ex->privileged = GetBool(body, "Privileged");
  if (auto it = body.find("ConsoleSize"); it != body.end() && it->is_array() && it->size() == 2 &&
                                          (*it)[0].is_number_unsigned() &&
                                          (*it)[1].is_number_unsigned()) {
    ex->console_size = {(*it)[0].get<uint32_t>(), (*it)[1].get<uint32_t>()};
  }
  {
    std::lock_guard lock(e->mu);
    LogEvent(e->c, ExecAction("exec_create", ex->entrypoint, ex->arguments), {{"execID", ex->id}});
  }
  std::lock_guard lock(execs_mu_);
  execs_[ex->id] = ex;
  return ex->id;
}

absl::StatusOr<std::shared_ptr<Exec>> Daemon::FindExec(const std::string& id) {
  std::lock_guard lock(execs_mu_);
  auto it = execs_.find(id);
  if (it == execs_.end()) return absl::NotFoundError(absl::StrCat("No such exec instance: ", id));
  return it->second;
}

absl::Status Daemon::ClaimExec(Exec& ex) {
  std::lock_guard lock(ex.mu);
  if (ex.exit_code) {
    return absl::FailedPreconditionError(
        absl::StrCat("Error: Exec command ", ex.id, " has already run"));
  }
  if (ex.claimed) {
    return absl::FailedPreconditionError(
        absl::StrCat("Error: Exec command ", ex.id, " is already running"));
  }
  ex.claimed = true;
  return absl::OkStatus();
}

absl::Status Daemon::StartExec(const std::shared_ptr<Exec>& ex) {
  std::unique_ptr<ContainerIo> io;
  auto fail = [&](absl::Status st) {
    if (io) io->RemoveFifos();
    io.reset();
    std::lock_guard lock(ex->mu);
    ex->start_done = true;
    ex->running = false;
    ex->exit_code = 126;  // dockerd's, whatever the start's error
    ex->cv.notify_all();
    ex->hub->EndRun();
    return st;
  };
  auto found = Find(ex->container_id);
  if (!found.ok()) return fail(found.status());
  auto e = *found;
  int pid = 0;
  nlohmann::json group_add = nlohmann::json::array();
  {
    std::lock_guard lock(e->mu);
    if (e->removed || !e->c.state.running) {
      return fail(
          absl::FailedPreconditionError(absl::StrCat("Container ", e->c.id, " is not running")));
    }
    if (e->c.state.paused) {
      return fail(absl::FailedPreconditionError(
          absl::StrCat("Container ", e->c.id, " is paused, unpause the container before exec")));
    }
    pid = e->c.state.pid;
    if (e->c.host_config.contains("GroupAdd") && e->c.host_config["GroupAdd"].is_array()) {
      group_add = e->c.host_config["GroupAdd"];
    }
  }

  // The container's process, as runtimed holds its spec.
  api::GetContainerRequest get;
  get.set_id(ex->container_id);
  api::Container rc;
  if (absl::Status st = FromGrpc(runtimed_.containers().Get(runtimed_.Context().get(), get, &rc));
      !st.ok()) {
    return fail(st);
  }
  nlohmann::json spec = nlohmann::json::parse(rc.spec(), nullptr, false);
  if (!spec.is_object() || !spec.contains("process") || !spec["process"].is_object()) {
    return fail(absl::InternalError(
        absl::StrCat("container ", ex->container_id, ": its OCI spec has no process")));
  }
  nlohmann::json process = spec["process"];
  std::vector<std::string> args = {ex->entrypoint};
  args.insert(args.end(), ex->arguments.begin(), ex->arguments.end());
  process["args"] = args;
  process["terminal"] = ex->tty;
  process.erase("consoleSize");
  if (ex->tty && ex->console_size) {
    process["consoleSize"] = {{"height", ex->console_size->first},
                              {"width", ex->console_size->second}};
  }
  std::vector<std::string> env;
  if (process.contains("env") && process["env"].is_array()) {
    for (const auto& kv : process["env"]) {
      if (kv.is_string()) env.push_back(kv.get<std::string>());
    }
  }
  // dockerd's CreateDaemonEnvironment(exec's tty): TERM=xterm with a tty only.
  env.erase(std::remove(env.begin(), env.end(), "TERM=xterm"), env.end());
  if (ex->tty) ReplaceOrAppend(env, {"TERM=xterm"});
  ReplaceOrAppend(env, ex->env);
  process["env"] = env;
  if (!ex->working_dir.empty()) process["cwd"] = ex->working_dir;
  if (!process.contains("cwd") || process["cwd"].get<std::string>().empty()) process["cwd"] = "/";
  uint32_t uid = process.contains("user") ? process["user"].value("uid", 0u) : 0u;
  if (!ex->user.empty()) {
    std::vector<std::string> groups;
    for (const auto& g : group_add) {
      if (g.is_string()) groups.push_back(g.get<std::string>());
    }
    auto user = spec::LookupUser(absl::StrCat("/proc/", pid, "/root"), ex->user, groups);
    if (!user.ok()) return fail(user.status());
    std::vector<uint32_t> gids = {user->gid};
    gids.insert(gids.end(), user->additional_gids.begin(), user->additional_gids.end());
    process["user"] = {{"uid", user->uid}, {"gid", user->gid}, {"additionalGids", gids}};
    uid = user->uid;
  }
  nlohmann::json caps = nlohmann::json::array();
  if (process.contains("capabilities") && process["capabilities"].contains("bounding")) {
    caps = process["capabilities"]["bounding"];
  }
  if (ex->privileged) caps = spec::GrantableCapabilities(spec::LocalHost());
  // As execve would: a non-root user keeps only the bounding set.
  if (uid == 0) {
    process["capabilities"] = {{"bounding", caps}, {"effective", caps}, {"permitted", caps}};
  } else {
    process["capabilities"] = {{"bounding", caps}};
  }

  ContainerIo::Options io_options;
  io_options.dir = ExecDir(ex->container_id);
  io_options.name = absl::StrCat("exec-", ex->id);
  io_options.tty = ex->tty;
  io_options.open_stdin = ex->attach_stdin;
  auto opened = ContainerIo::Open(io_options, ex->hub);
  if (!opened.ok()) return fail(opened.status());
  io = std::move(*opened);

  api::ExecTaskRequest exec;
  exec.set_container_id(ex->container_id);
  exec.set_exec_id(ex->id);
  exec.set_process(process.dump());
  *exec.mutable_stdio() = io->Stdio();
  api::ExecTaskResponse added;
  if (absl::Status st = FromGrpc(runtimed_.tasks().Exec(runtimed_.Context().get(), exec, &added));
      !st.ok()) {
    return fail(st);
  }
  api::StartTaskRequest start;
  start.set_container_id(ex->container_id);
  start.set_exec_id(ex->id);
  api::StartTaskResponse started;
  if (absl::Status st =
          FromGrpc(runtimed_.tasks().Start(runtimed_.Context().get(), start, &started));
      !st.ok()) {
    api::DeleteTaskRequest del;
    del.set_container_id(ex->container_id);
    del.set_exec_id(ex->id);
    api::DeleteTaskResponse ignored;
    (void)runtimed_.tasks().Delete(runtimed_.Context().get(), del, &ignored);
    // dockerd's translateContainerdStartErr: a command that cannot be run is
    // the caller's mistake (400).
    absl::string_view message = st.message();
    if (absl::StrContains(message, "executable file not found") ||
        absl::StrContains(message, "no such file or directory") ||
        absl::StrContains(message, "permission denied")) {
      st = absl::InvalidArgumentError(message);
    }
    return fail(st);
  }
  io->Start();
  {
    std::lock_guard lock(e->mu);  // before start_done: exec_die comes after it
    LogEvent(e->c, ExecAction("exec_start", ex->entrypoint, ex->arguments), {{"execID", ex->id}});
  }
  std::lock_guard lock(ex->mu);
  ex->io = std::move(io);
  ex->pid = static_cast<int>(started.pid());
  ex->running = true;
  ex->start_done = true;
  ex->cv.notify_all();
  LogInfo("container {}: exec {} started, pid {}", ex->container_id, ex->id, started.pid());
  return absl::OkStatus();
}

void Daemon::HandleExecExit(const std::string& container_id, const std::string& exec_id,
                            uint32_t exit_status) {
  std::shared_ptr<Exec> ex;
  {
    std::lock_guard lock(execs_mu_);
    if (auto it = execs_.find(exec_id); it != execs_.end()) ex = it->second;
  }
  std::unique_ptr<ContainerIo> io;
  if (ex) {
    std::unique_lock lock(ex->mu);
    // The exit may come before StartExec has heard back from Tasks.Start.
    ex->cv.wait_for(lock, std::chrono::seconds(60), [&] { return ex->start_done; });
    io = std::move(ex->io);
  }
  if (io) {
    if (!io->WaitDrained(kExecDrainTimeout)) {
      LogWarn("container {}: the output of exec {} did not end {} after it exited", container_id,
              exec_id, absl::FormatDuration(kExecDrainTimeout));
    }
    io->RemoveFifos();
    io.reset();
  }
  // Told before the exec's stream ends: its client goes on knowing it died.
  if (auto e = Find(container_id); e.ok()) {
    std::lock_guard lock((*e)->mu);
    LogEvent((*e)->c, "exec_die", {{"execID", exec_id}, {"exitCode", std::to_string(exit_status)}});
  }
  if (ex) {
    std::lock_guard lock(ex->mu);
    ex->running = false;
    ex->exit_code = static_cast<int>(exit_status);
    ex->cv.notify_all();
    ex->hub->EndRun();
  }
  LogInfo("container {}: exec {} exited with {}", container_id, exec_id, exit_status);
  api::DeleteTaskRequest del;
  del.set_container_id(container_id);
  del.set_exec_id(exec_id);
  api::DeleteTaskResponse ignored;
  absl::Status st = FromGrpc(runtimed_.tasks().Delete(runtimed_.Context().get(), del, &ignored));
  if (!st.ok() && !absl::IsNotFound(st)) {
    LogWarn("container {}: delete exec {}: {}", container_id, exec_id, st.message());
  }
}

absl::Status Daemon::WriteExecStdin(Exec& ex, const std::string& data) {
  UniqueFd fd;
  {
    std::lock_guard lock(ex.mu);
    if (!ex.io || ex.io->StdinFd() < 0) return absl::FailedPreconditionError("stdin is not open");
    fd = UniqueFd(::fcntl(ex.io->StdinFd(), F_DUPFD_CLOEXEC, 0));
    if (!fd) return LastErrnoError("dup exec stdin");
  }
  // Written outside the lock: a full pipe must not stop the exit's handling.
  return WriteToStdin(fd.Get(), data, [&] {
    std::lock_guard lock(ex.mu);
    return ex.running && ex.io && ex.io->StdinFd() >= 0;
  });
}

absl::Status Daemon::CloseExecStdin(Exec& ex) {
  {
    std::lock_guard lock(ex.mu);
    if (!ex.io || !ex.running) return absl::OkStatus();
    ex.io->CloseStdin();
  }
  api::CloseIORequest request;
  request.set_container_id(ex.container_id);
  request.set_exec_id(ex.id);
  api::CloseIOResponse ignored;
  absl::Status st =
      FromGrpc(runtimed_.tasks().CloseIO(runtimed_.Context().get(), request, &ignored));
  if (absl::IsNotFound(st)) return absl::OkStatus();  // it exited meanwhile
  return st;
}

absl::Status Daemon::ResizeExec(const std::string& id, uint32_t height, uint32_t width) {
  BERTH_ASSIGN_OR_RETURN(auto ex, FindExec(id));
  {
    // As dockerd: a resize right after the start waits for it (10 s).
    std::unique_lock lock(ex->mu);
    if (!ex->cv.wait_for(lock, std::chrono::seconds(10), [&] { return ex->start_done; })) {
      return absl::DeadlineExceededError(
          absl::StrCat("timeout waiting for exec session ready: ", id));
    }
    if (!ex->running) {
      return absl::FailedPreconditionError(absl::StrCat("Exec ", id, " is not running"));
    }
  }
  api::ResizePtyRequest request;
  request.set_container_id(ex->container_id);
  request.set_exec_id(ex->id);
  request.set_width(width);
  request.set_height(height);
  api::ResizePtyResponse ignored;
  return FromGrpc(runtimed_.tasks().ResizePty(runtimed_.Context().get(), request, &ignored));
}

std::vector<std::string> Daemon::ExecIds(const std::string& container_id) {
  std::vector<std::string> ids;
  std::lock_guard lock(execs_mu_);
  for (const auto& [id, ex] : execs_) {
    if (ex->container_id != container_id) continue;
    // dockerd's container lists an exec until it exited.
    std::lock_guard exec_lock(ex->mu);
    if (!ex->exit_code) ids.push_back(id);
  }
  return ids;
}

void Daemon::DropExecs(const std::string& container_id) {
  std::lock_guard lock(execs_mu_);
  std::erase_if(execs_, [&](const auto& kv) { return kv.second->container_id == container_id; });
}

}  // namespace berth::engine
