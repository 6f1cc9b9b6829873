// `ps ID [--format table|json] [-- ps args]`: the container's processes.
#include <iostream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/json.h"
#include "common/process.h"
#include "common/status.h"
#include "lowlevel-runtime/cgroups/cgroup.h"
#include "lowlevel-runtime/commands.h"
#include "lowlevel-runtime/container_state.h"

namespace berth::oci {

absl::Status Ps(const GlobalOptions& global, const std::string& id, const std::string& format,
                const std::vector<std::string>& ps_args) {
  if (format != "table" && format != "json") {
    return absl::InvalidArgumentError(absl::StrCat("invalid format option: ", format));
  }
  BERTH_ASSIGN_OR_RETURN(ContainerState state, LoadState(global.root, id));
  BERTH_ASSIGN_OR_RETURN(auto cgroup, OpenContainerCgroup(state));
  BERTH_ASSIGN_OR_RETURN(std::vector<pid_t> pids, cgroup->Pids());
  if (format == "json") {
    std::cout << DumpJson(Json(pids)) << "\n";
    return absl::OkStatus();
  }
  // As runc: run the host's ps and keep the header and the container's lines.
  std::vector<std::string> argv = {"ps"};
  if (ps_args.empty()) {
    argv.push_back("-ef");
  } else {
    argv.insert(argv.end(), ps_args.begin(), ps_args.end());
  }
  BERTH_ASSIGN_OR_RETURN(RunResult ps, RunAndCapture(argv));
  if (ps.exit_code != 0) {
    return absl::InternalError(absl::StrCat("ps failed: ", ps.err));
  }
  std::vector<std::string> lines = absl::StrSplit(ps.out, '\n', absl::SkipEmpty());
  if (lines.empty()) return absl::OkStatus();
  std::vector<std::string> header = absl::StrSplit(lines[0], ' ', absl::SkipEmpty());
  size_t pid_column = header.size();
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "PID") pid_column = i;
  }
  if (pid_column == header.size()) {
    return absl::InvalidArgumentError("ps output has no PID column");
  }
  std::set<pid_t> wanted(pids.begin(), pids.end());
  std::cout << lines[0] << "\n";
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> fields = absl::StrSplit(lines[i], ' ', absl::SkipEmpty());
    int pid = 0;
    if (fields.size() > pid_column && absl::SimpleAtoi(fields[pid_column], &pid) &&
        wanted.count(pid) != 0) {
      std::cout << lines[i] << "\n";
    }
  }
  return absl::OkStatus();
}

}  // namespace berth::oci
