#include "lowlevel-runtime/container_state.h"

#include <dirent.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/container_id.h"
#include "common/fd_util.h"
#include "common/status.h"
#include "lowlevel-runtime/cgroups/cgroup.h"
#include "lowlevel-runtime/cgroups/no_cgroup.h"

namespace berth::oci {

absl::string_view StatusName(Status status) {
  switch (status) {
    case Status::kCreating:
      return "creating";
    case Status::kCreated:
      return "created";
    case Status::kRunning:
      return "running";
    case Status::kPaused:
      return "paused";
    case Status::kStopped:
      return "stopped";
  }
  return "unknown";
}

std::string DefaultStateRoot() {
  if (::geteuid() != 0) {
    const char* runtime_dir = std::getenv("XDG_RUNTIME_DIR");
    if (runtime_dir != nullptr && runtime_dir[0] != '\0') {
      return absl::StrCat(runtime_dir, "/berth-oci");
    }
  }
  return "/run/berth-oci";
}

std::string StateDir(const std::string& root, const std::string& id) {
  return absl::StrCat(root, "/", id);
}

std::string ExecFifoPath(const std::string& root, const std::string& id) {
  return absl::StrCat(root, "/", id, "/exec.fifo");
}

absl::Status SaveState(const std::string& root, const ContainerState& s) {
  Json j = {{"id", s.id},
            {"pid", s.pid},
            {"pid_start_time", s.pid_start_time},
            {"bundle", s.bundle},
            {"rootfs", s.rootfs},
            {"created", s.created},
            {"owner", s.owner},
            {"annotations", s.annotations},
            {"cgroups_path", s.cgroups_path},
            {"without_cgroup", s.without_cgroup},
            {"creating", s.creating},
            {"config", s.config}};
  // Runtime state lives on tmpfs (/run) and means nothing after a reboot: the
  // rename keeps it whole across a killed process, an fsync would buy nothing.
  return WriteJsonFileAtomic(absl::StrCat(StateDir(root, s.id), "/state.json"), j, 0600,
                             Durability::kNoFsync);
}

absl::StatusOr<ContainerState> LoadState(const std::string& root, const std::string& id) {
  if (!ValidateContainerId(id).ok()) {
    return absl::NotFoundError(absl::StrCat("container \"", id, "\" does not exist"));
  }
  std::string path = absl::StrCat(StateDir(root, id), "/state.json");
  auto text = ReadFileToString(path);
  if (!text.ok()) {
    if (text.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("container \"", id, "\" does not exist"));
    }
    return text.status();
  }
  BERTH_ASSIGN_OR_RETURN(Json j, ParseJson(*text, path));
  ContainerState s;
  try {
    s.id = j.at("id").get<std::string>();
    s.pid = j.at("pid").get<pid_t>();
    s.pid_start_time = j.at("pid_start_time").get<uint64_t>();
    s.bundle = j.at("bundle").get<std::string>();
    s.rootfs = j.at("rootfs").get<std::string>();
    s.created = j.at("created").get<std::string>();
    s.owner = j.value("owner", "");
    s.annotations = j.value("annotations", std::map<std::string, std::string>{});
    s.cgroups_path = j.value("cgroups_path", "");
    s.without_cgroup = j.value("without_cgroup", false);
    s.creating = j.value("creating", false);
    s.config = j.value("config", Json::object());
  } catch (const Json::exception& e) {
    return absl::DataLossError(absl::StrCat(path, ": corrupt state: ", e.what()));
  }
  return s;
}

std::string SeccompCacheDir(const std::string& root) { return root + "/.seccomp-cache"; }

absl::StatusOr<std::vector<std::string>> ListContainerIds(const std::string& root) {
  std::vector<std::string> ids;
  DIR* dir = ::opendir(root.c_str());
  if (dir == nullptr) {
    if (errno == ENOENT) return ids;
    return LastErrnoError(absl::StrCat("open ", root));
  }
  while (struct dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || e->d_type != DT_DIR) continue;
    if (::access(absl::StrCat(root, "/", name, "/state.json").c_str(), F_OK) == 0) {
      ids.push_back(name);
    }
  }
  ::closedir(dir);
  std::sort(ids.begin(), ids.end());
  return ids;
}

uint64_t ProcessStartTime(pid_t pid) {
  auto stat = ReadFileToString(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat.ok()) return 0;
  // The command name (field 2) may contain spaces and parentheses: skip past the last ')'.
  size_t close = stat->rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(*stat).substr(close + 2), ' ');
  // fields[0] is field 3 (state); start time is field 22.
  if (fields.size() < 20 || fields[0] == "Z" || fields[0] == "X") return 0;
  return std::strtoull(std::string(fields[19]).c_str(), nullptr, 10);
}

bool InitAlive(const ContainerState& state) {
  if (state.pid <= 0) return false;
  uint64_t start = ProcessStartTime(state.pid);
  return start != 0 && start == state.pid_start_time;
}

absl::StatusOr<std::unique_ptr<Cgroup>> OpenContainerCgroup(const ContainerState& state) {
  if (state.without_cgroup) return std::make_unique<NoCgroup>(InitAlive(state) ? state.pid : 0);
  return OpenCgroup(state.cgroups_path, state.id);
}

Status CurrentStatus(const std::string& root, const ContainerState& state) {
  if (!InitAlive(state))
    return state.creating && state.pid == 0 ? Status::kCreating : Status::kStopped;
  if (state.creating) return Status::kCreating;
  if (::access(ExecFifoPath(root, state.id).c_str(), F_OK) == 0) return Status::kCreated;
  auto cgroup = OpenContainerCgroup(state);
  if (cgroup.ok()) {
    auto frozen = (*cgroup)->Frozen();
    if (frozen.ok() && *frozen) return Status::kPaused;
  }
  return Status::kRunning;
}

Json StateJson(const ContainerState& state, Status status) {
  Json j = {{"ociVersion", "1.0.2-dev"},
            {"id", state.id},
            {"pid", status == Status::kStopped ? 0 : state.pid},
            {"status", std::string(StatusName(status))},
            {"bundle", state.bundle},
            {"rootfs", state.rootfs},
            {"created", state.created},
            {"owner", state.owner}};
  if (!state.annotations.empty()) j["annotations"] = state.annotations;
  return j;
}

std::string NowRfc3339Nano() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", absl::Now(), absl::UTCTimeZone());
}

}  // namespace berth::oci
