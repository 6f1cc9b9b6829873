#include "shim/oci_runtime.h"

#include <fcntl.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/fd_util.h"
#include "common/json.h"
#include "common/process.h"
#include "common/status.h"

namespace berth::shim {

std::vector<std::string> OciRuntime::Argv(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {binary_, "--root", root_};
  if (!bundle_.empty())
    argv.insert(argv.end(), {"--log", bundle_ + "/log.json", "--log-format", "json"});
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string OciRuntime::LastLoggedError() const {
  if (bundle_.empty()) return "";
  auto text = ReadFileToString(bundle_ + "/log.json");
  if (!text.ok()) return "";
  std::string last;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    auto entry = ParseJson(std::string(line), "log.json");
    if (!entry.ok() || !entry->is_object()) continue;
    if (entry->value("level", "") == "error") last = entry->value("msg", "");
  }
  return last;
}

absl::Status OciRuntime::Run(const std::string& what, const std::vector<std::string>& args,
                             const std::map<int, int>& stdio) const {
  BERTH_ASSIGN_OR_RETURN(UniqueFd null, OpenFile("/dev/null", O_RDWR | O_CLOEXEC));
  SpawnOptions options;
  options.argv = Argv(args);
  options.cwd = bundle_;
  for (int fd : {0, 1, 2}) {
    auto it = stdio.find(fd);
    options.fds[fd] = it != stdio.end() ? it->second : null.Get();
  }
  BERTH_ASSIGN_OR_RETURN(ChildProcess child, Spawn(options));
  BERTH_ASSIGN_OR_RETURN(int code, child.Wait());
  if (code == 0) return absl::OkStatus();
  std::string error = LastLoggedError();
  if (error.empty()) error = absl::StrCat(binary_, " exited with status ", code);
  return absl::UnknownError(absl::StrCat("OCI runtime ", what, " failed: ", error));
}

absl::StatusOr<std::string> OciRuntime::Output(const std::string& what,
                                               const std::vector<std::string>& args) const {
  BERTH_ASSIGN_OR_RETURN(RunResult result, RunAndCapture(Argv(args)));
  if (result.exit_code == 0) return result.out;
  std::string error = LastLoggedError();
  if (error.empty()) error = std::string(absl::StripAsciiWhitespace(result.err));
  return absl::UnknownError(absl::StrCat("OCI runtime ", what, " failed: ", error));
}

absl::StatusOr<pid_t> ReadPidFile(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  int pid = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &pid) || pid <= 0) {
    return absl::DataLossError(absl::StrCat(path, ": not a pid: \"", text, "\""));
  }
  return static_cast<pid_t>(pid);
}

}  // namespace berth::shim
