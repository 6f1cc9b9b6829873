#include "highlevel-runtime/tasks/task_manager.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/fd_util.h"
#include "common/json.h"
#include "common/log.h"
#include "common/process.h"
#include "common/status.h"
#include "common/ttrpc/client.h"
#include "containerd/runc/options.pb.h"
#include "containerd/task/v2/shim.pb.h"

namespace berth::runtimed {
namespace {

namespace api = berth::runtime::v1;
namespace task = containerd::task::v2;
constexpr char kTaskService[] = "containerd.task.v2.Task";

}  // namespace

absl::StatusOr<std::string> ShimBinaryName(const std::string& runtime_name) {
  std::vector<std::string> parts = absl::StrSplit(runtime_name, '.');
  if (parts.size() != 4 || parts[0] != "io" || parts[1].empty() || parts[2].empty() ||
      parts[3].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("runtime \"", runtime_name,
                     "\": want io.<vendor>.<name>.<version>, e.g. io.containerd.berth.v2"));
  }
  return absl::StrCat(parts[1], "-shim-", parts[2], "-", parts[3]);
}

std::string TaskManager::Bundle(const std::string& ns, const std::string& id) const {
  return absl::StrCat(state_, "/tasks/", ns, "/", id);
}

absl::StatusOr<std::string> TaskManager::StartShim(const std::string& ns, const std::string& id,
                                                   const std::string& shim,
                                                   const std::string& bundle) {
  BERTH_ASSIGN_OR_RETURN(auto pipe, MakePipe());
  SpawnOptions options;
  options.argv = {shim,        "-namespace", ns, "-address", address_, "-publish-binary",
                  "/bin/true", "-id",        id};
  // As containerd does: a debug runtimed gets its shims' debug lines too.
  if (LogEnabled(LogLevel::kDebug)) options.argv.push_back("-debug");
  options.argv.push_back("start");
  options.cwd = bundle;
  options.fds = {{1, pipe.second.Get()}};
  if (!events_address_.empty()) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      if (!absl::StartsWith(*e, "TTRPC_ADDRESS=")) env.emplace_back(*e);
    }
    env.push_back("TTRPC_ADDRESS=" + events_address_);
    options.env = std::move(env);
  }
  BERTH_ASSIGN_OR_RETURN(ChildProcess child, Spawn(options));
  pipe.second.Reset();
  BERTH_ASSIGN_OR_RETURN(std::string out, ReadAll(pipe.first.Get()));
  BERTH_ASSIGN_OR_RETURN(int code, child.Wait());
  if (code != 0) {
    return absl::UnavailableError(
        absl::StrCat("start ", shim, " for ", id, ": exit status ", code));
  }
  std::string address(absl::StripAsciiWhitespace(out));
  if (address.empty())
    return absl::UnavailableError(absl::StrCat(shim, " start printed no address"));
  return address;
}

absl::StatusOr<uint32_t> TaskManager::Create(const std::string& ns, const api::Container& c,
                                             const std::vector<Mount>& rootfs,
                                             const api::Stdio& stdio) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (tasks_.count({ns, c.id()}) != 0) {
      return absl::AlreadyExistsError(absl::StrCat("container \"", c.id(), "\" has a task"));
    }
  }
  std::string runtime = c.runtime().name().empty() ? "io.containerd.berth.v2" : c.runtime().name();
  BERTH_ASSIGN_OR_RETURN(std::string shim, ShimBinaryName(runtime));
  std::string bundle = Bundle(ns, c.id());
  std::error_code ec;
  std::filesystem::create_directories(bundle + "/rootfs", ec);
  if (ec) return ErrnoError(ec.value(), absl::StrCat("create bundle ", bundle));
  // Until a shim owns it, the bundle is ours to remove on any error.
  auto cleanup = absl::MakeCleanup([&] { std::filesystem::remove_all(bundle, ec); });
  auto spec = ParseJson(c.spec(), "container spec");
  if (!spec.ok() || !spec->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("container \"", c.id(), "\": its spec is not a JSON object"));
  }
  (*spec)["root"]["path"] = "rootfs";
  BERTH_RETURN_IF_ERROR(
      WriteJsonFileAtomic(bundle + "/config.json", *spec, 0600, Durability::kNoFsync));
  // The shim's log: a fifo we read (held open before the shim opens it).
  BERTH_ASSIGN_OR_RETURN(UniqueFd log, CreateShimLogFifo(bundle + "/log"));
  // Which shim to ask for `delete` should it die with runtimed down.
  BERTH_RETURN_IF_ERROR(WriteStringToFile(bundle + "/runtime", runtime));
  BERTH_ASSIGN_OR_RETURN(std::string address, StartShim(ns, c.id(), shim, bundle));
  std::move(cleanup).Cancel();  // from here on Remove() takes the bundle down with the shim
  if (absl::Status st = shim_logs_.Add(ns, c.id(), std::move(log)); !st.ok()) {
    LogWarn("the log of the shim of {}/{} is not forwarded: {}", ns, c.id(), st.message());
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_[{ns, c.id()}] = {bundle, address};
  }
  task::CreateTaskRequest request;
  request.set_id(c.id());
  request.set_bundle(bundle);
  for (const Mount& m : rootfs) {
    auto* mount = request.add_rootfs();
    mount->set_type(m.type);
    mount->set_source(m.source);
    for (const std::string& o : m.options) mount->add_options(o);
  }
  request.set_terminal(stdio.terminal());
  request.set_stdin(stdio.stdin());
  request.set_stdout(stdio.stdout());
  request.set_stderr(stdio.stderr());
  containerd::runc::v1::Options options;
  options.set_binary_name(c.runtime().binary_name());
  options.set_root(absl::StrCat(state_, "/runtime/", runtime));
  request.mutable_options()->set_type_url("containerd.runc.v1.Options");
  request.mutable_options()->set_value(options.SerializeAsString());
  auto created = Call(ns, c.id(), "Create", request.SerializeAsString());
  if (!created.ok()) {
    (void)Remove(ns, c.id());
    return created.status();
  }
  task::CreateTaskResponse response;
  if (!response.ParseFromString(*created))
    return absl::DataLossError("shim: bad CreateTaskResponse");
  return response.pid();
}

absl::StatusOr<std::string> TaskManager::Call(const std::string& ns, const std::string& id,
                                              const std::string& method, const std::string& request,
                                              const std::function<bool()>& cancelled) {
  std::string address;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tasks_.find({ns, id});
    if (it == tasks_.end()) {
      return absl::NotFoundError(absl::StrCat("container \"", id, "\" has no task"));
    }
    address = it->second.address;
  }
  BERTH_ASSIGN_OR_RETURN(ttrpc::Client client, ttrpc::Client::Connect(address));
  return client.Call(kTaskService, method, request, absl::InfiniteDuration(), cancelled);
}

absl::Status TaskManager::Remove(const std::string& ns, const std::string& id) {
  task::ShutdownRequest shutdown;
  shutdown.set_id(id);
  shutdown.set_now(true);
  (void)Call(ns, id, "Shutdown", shutdown.SerializeAsString());
  shim_logs_.Remove(ns, id);
  std::string bundle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tasks_.find({ns, id});
    if (it == tasks_.end()) return absl::OkStatus();
    bundle = it->second.bundle;
    tasks_.erase(it);
  }
  std::error_code ec;
  std::filesystem::remove_all(bundle, ec);
  if (ec) return ErrnoError(ec.value(), absl::StrCat("remove bundle ", bundle));
  return absl::OkStatus();
}

bool TaskManager::Has(const std::string& ns, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  return tasks_.count({ns, id}) != 0;
}

std::vector<std::string> TaskManager::Ids(const std::string& ns) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> ids;
  for (const auto& [key, task] : tasks_) {
    if (key.first == ns) ids.push_back(key.second);
  }
  return ids;
}

absl::Status TaskManager::Reload() {
  std::error_code ec;
  std::string root = state_ + "/tasks";
  if (!std::filesystem::is_directory(root, ec)) return absl::OkStatus();
  for (const auto& ns_dir : std::filesystem::directory_iterator(root, ec)) {
    for (const auto& bundle : std::filesystem::directory_iterator(ns_dir.path(), ec)) {
      std::string ns = ns_dir.path().filename();
      std::string id = bundle.path().filename();
      auto address = ReadFileToString(bundle.path().string() + "/address");
      bool alive = false;
      if (address.ok()) {
        auto client = ttrpc::Client::Connect(*address);
        alive =
            client.ok() && client
                               ->Call(kTaskService, "Connect",
                                      task::ConnectRequest().SerializeAsString(), absl::Seconds(5))
                               .ok();
      }
      if (alive) {
        std::lock_guard<std::mutex> lock(mu_);
        tasks_[{ns, id}] = {bundle.path().string(), *address};
        LogInfo("reconnected to the shim of {}/{} at {}", ns, id, *address);
        auto log = OpenShimLogFifo(bundle.path().string() + "/log");
        absl::Status forwarding = log.ok() ? shim_logs_.Add(ns, id, std::move(*log)) : log.status();
        if (!forwarding.ok()) {
          LogWarn("the log of the shim of {}/{} is not forwarded: {}", ns, id,
                  forwarding.message());
        }
        continue;
      }
      LogWarn("the shim of {}/{} is gone: cleaning up after it", ns, id);
      // As containerd does: the shim's own `delete` kills what is left of the
      // container (the runtime's delete --force) and unmounts its rootfs.
      auto runtime = ReadFileToString(bundle.path().string() + "/runtime");
      auto shim = runtime.ok() ? ShimBinaryName(*runtime) : runtime.status();
      if (shim.ok()) {
        SpawnOptions options;
        options.argv = {*shim,
                        "-namespace",
                        ns,
                        "-address",
                        address_,
                        "-publish-binary",
                        "/bin/true",
                        "-id",
                        id,
                        "-bundle",
                        bundle.path().string(),
                        "delete"};
        options.cwd = bundle.path().string();
        auto null = OpenFile("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null.ok()) options.fds = {{1, null->Get()}};
        auto child = Spawn(options);
        absl::StatusOr<int> code = child.ok() ? child->WaitFor(absl::Seconds(30)) : child.status();
        if (!code.ok() || *code != 0) {
          LogWarn("{} delete for {}/{}: {}", *shim, ns, id,
                  code.ok() ? absl::StrCat("exit status ", *code)
                            : std::string(code.status().message()));
        }
      }
      std::filesystem::remove_all(bundle.path(), ec);
    }
  }
  return absl::OkStatus();
}

}  // namespace berth::runtimed
