// The operations on a running container besides its lifecycle: resize of its
// pty, pause and unpause (the cgroup freezer, through Tasks.Pause/Resume),
// top (the host's ps, filtered to the task's pids as dockerd's
// daemon/top_unix.go does), and rename.
#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/log.h"
#include "common/process.h"
#include "common/status.h"
#include "engine/daemon/daemon.h"
#include "engine/daemon/names.h"

namespace berth::engine {
namespace {

absl::Status NotRunning(const std::string& id) {
  return absl::FailedPreconditionError(absl::StrCat("Container ", id, " is not running"));
}

// Go's strings.Fields on ASCII whitespace (dockerd's fieldsASCII).
std::vector<std::string> FieldsAscii(absl::string_view line) {
  return absl::StrSplit(line, absl::ByAnyChar(" \t\n\v\f\r"), absl::SkipEmpty());
}

}  // namespace

absl::Status Daemon::Resize(const std::string& ref, uint32_t height, uint32_t width) {
  BERTH_ASSIGN_OR_RETURN(auto e, Find(ref));
  {
    std::lock_guard lock(e->mu);
    if (e->removed || !e->c.state.running) return NotRunning(e->c.id);
  }
  api::ResizePtyRequest request;
  request.set_container_id(e->c.id);
  request.set_width(width);
  request.set_height(height);
  api::ResizePtyResponse ignored;
  BERTH_RETURN_IF_ERROR(
      FromGrpc(runtimed_.tasks().ResizePty(runtimed_.Context().get(), request, &ignored)));
  std::lock_guard lock(e->mu);
  LogEvent(e->c, "resize", {{"height", std::to_string(height)}, {"width", std::to_string(width)}});
  return absl::OkStatus();
}

absl::Status Daemon::Pause(const std::string& ref) {
  BERTH_ASSIGN_OR_RETURN(auto e, Find(ref));
  std::lock_guard op(e->op);
  {
    std::lock_guard lock(e->mu);
    if (e->removed || !e->c.state.running) return NotRunning(e->c.id);
    if (e->c.state.paused) {
      return absl::FailedPreconditionError(
          absl::StrCat("Container ", e->c.id, " is already paused"));
    }
  }
  api::PauseTaskRequest request;
  request.set_container_id(e->c.id);
  api::PauseTaskResponse ignored;
  absl::Status st = FromGrpc(runtimed_.tasks().Pause(runtimed_.Context().get(), request, &ignored));
  if (!st.ok()) {
    return absl::Status(st.code(),
                        absl::StrCat("Cannot pause container ", e->c.id, ": ", st.message()));
  }
  std::lock_guard lock(e->mu);
  e->c.state.paused = true;
  LogEvent(e->c, "pause");
  BERTH_RETURN_IF_ERROR(Save(*e));
  LogInfo("container {} paused", e->c.id);
  return absl::OkStatus();
}

absl::Status Daemon::Unpause(const std::string& ref) {
  BERTH_ASSIGN_OR_RETURN(auto e, Find(ref));
  std::lock_guard op(e->op);
  {
    std::lock_guard lock(e->mu);
    if (e->removed || !e->c.state.paused || !e->c.state.running) {
      return absl::FailedPreconditionError(absl::StrCat("Container ", e->c.id, " is not paused"));
    }
  }
  api::ResumeTaskRequest request;
  request.set_container_id(e->c.id);
  api::ResumeTaskResponse ignored;
  absl::Status st =
      FromGrpc(runtimed_.tasks().Resume(runtimed_.Context().get(), request, &ignored));
  if (!st.ok()) {
    return absl::Status(st.code(),
                        absl::StrCat("Cannot unpause container ", e->c.id, ": ", st.message()));
  }
  std::lock_guard lock(e->mu);
  e->c.state.paused = false;
  LogEvent(e->c, "unpause");
  BERTH_RETURN_IF_ERROR(Save(*e));
  LogInfo("container {} unpaused", e->c.id);
  return absl::OkStatus();
}

absl::StatusOr<nlohmann::ordered_json> Daemon::Top(const std::string& ref,
                                                   const std::string& ps_args_in) {
  const std::string ps_args = ps_args_in.empty() ? "-ef" : ps_args_in;
  // dockerd's validatePSArgs: -o may not rename the PID column.
  static const std::regex kRenamedPid(R"(\s+([^\s]*)=\s*(PID[^\s]*))");
  std::smatch m;
  std::string padded = " " + ps_args;
  for (auto it = padded.cbegin(); std::regex_search(it, padded.cend(), m, kRenamedPid);
       it = m.suffix().first) {
    if (m[1].length() > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("specifying \"", m[1].str(), "=", m[2].str(), "\" is not allowed"));
    }
  }
  BERTH_ASSIGN_OR_RETURN(auto e, Find(ref));
  {
    std::lock_guard lock(e->mu);
    if (e->removed || !e->c.state.running) return NotRunning(e->c.id);
  }
  api::PidsRequest request;
  request.set_container_id(e->c.id);
  api::PidsResponse pids;
  BERTH_RETURN_IF_ERROR(
      FromGrpc(runtimed_.tasks().Pids(runtimed_.Context().get(), request, &pids)));
  std::vector<std::string> argv = {"ps"};
  for (absl::string_view word : absl::StrSplit(ps_args, ' ', absl::SkipEmpty())) {
    argv.emplace_back(word);
  }
  BERTH_ASSIGN_OR_RETURN(RunResult ps, RunAndCapture(argv));
  if (ps.exit_code != 0) {
    std::string line = ps.err.substr(0, ps.err.find('\n'));
    return absl::InvalidArgumentError(line.empty() ? absl::StrCat("ps exited with ", ps.exit_code)
                                                   : line);
  }
  // dockerd's parsePSOutput.
  std::vector<std::string> lines = absl::StrSplit(ps.out, '\n');
  std::vector<std::string> titles = FieldsAscii(lines.empty() ? "" : lines[0]);
  auto pid_column = std::find(titles.begin(), titles.end(), "PID");
  if (pid_column == titles.end()) {
    return absl::InternalError("Couldn't find PID field in ps output");
  }
  const size_t pid_index = static_cast<size_t>(pid_column - titles.begin());
  auto contained = [&](uint32_t pid) {
    return std::find(pids.pids().begin(), pids.pids().end(), pid) != pids.pids().end();
  };
  nlohmann::ordered_json processes = nlohmann::ordered_json::array();
  auto append = [&](const std::vector<std::string>& fields) {
    // The last column keeps its spaces (a command line).
    std::vector<std::string> row(fields.begin(),
                                 fields.begin() + static_cast<std::ptrdiff_t>(titles.size() - 1));
    std::vector<std::string> rest(fields.begin() + static_cast<std::ptrdiff_t>(titles.size() - 1),
                                  fields.end());
    row.push_back(absl::StrJoin(rest, " "));
    processes.push_back(row);
  };
  bool previous_contained = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    std::vector<std::string> fields = FieldsAscii(lines[i]);
    if (fields.size() < titles.size()) continue;
    if (fields[pid_index] == "-") {  // a thread line (ps -m)
      if (previous_contained) append(fields);
      continue;
    }
    uint32_t pid = 0;
    if (!absl::SimpleAtoi(fields[pid_index], &pid)) {
      return absl::InternalError(absl::StrCat("Unexpected pid '", fields[pid_index], "'"));
    }
    previous_contained = contained(pid);
    if (previous_contained) append(fields);
  }
  {
    std::lock_guard lock(e->mu);
    LogEvent(e->c, "top");
  }
  nlohmann::ordered_json out;
  out["Processes"] = std::move(processes);
  out["Titles"] = titles;
  return out;
}

absl::Status Daemon::Rename(const std::string& ref, const std::string& new_name_in) {
  if (ref.empty() || new_name_in.empty()) {
    return absl::InvalidArgumentError("Neither old nor new names may be empty");
  }
  BERTH_ASSIGN_OR_RETURN(auto e, Find(ref));
  std::string new_name(absl::StripPrefix(new_name_in, "/"));
  std::lock_guard op(e->op);
  std::lock_guard lock(mu_);
  std::lock_guard entry_lock(e->mu);
  if (e->removed) return absl::NotFoundError(absl::StrCat("No such container: ", ref));
  if (e->c.name == new_name) {
    return absl::InvalidArgumentError(
        "Renaming a container with the same name as its current name");
  }
  if (absl::Status valid = ValidateContainerName(new_name); !valid.ok()) {
    return absl::Status(valid.code(),
                        absl::StrCat("Error when allocating new name: ", valid.message()));
  }
  for (const auto& [id, other] : containers_) {
    if (other != e && other->c.name == new_name) {
      return absl::AlreadyExistsError(absl::StrCat(
          "Error when allocating new name: Conflict. The container name \"/", new_name,
          "\" is already in use by container \"", id,
          "\". You have to remove (or rename) that container to be able to reuse that name."));
    }
  }
  const std::string old_name = e->c.name;
  e->c.name = new_name;
  if (absl::Status saved = Save(*e); !saved.ok()) {
    e->c.name = old_name;
    return saved;
  }
  LogEvent(e->c, "rename", {{"oldName", "/" + old_name}});
  LogInfo("container {} renamed from {} to {}", e->c.id, old_name, new_name);
  return absl::OkStatus();
}

}  // namespace berth::engine
