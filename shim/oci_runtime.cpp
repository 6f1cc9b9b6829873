#include "shim/oci_runtime.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

std::string OciRuntime::LogPath() const { return bundle_ + "/log.json"; }

off_t OciRuntime::MarkLog() const { return bundle_.empty() ? 0 : RuntimeLogMark(LogPath()); }

std::string OciRuntime::LoggedError(off_t mark) const {
  return bundle_.empty() ? "" : RuntimeLogErrorSince(LogPath(), mark);
}

off_t RuntimeLogMark(const std::string& path, off_t limit) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;  // not written yet
  if (st.st_size > limit && ::truncate(path.c_str(), 0) == 0) return 0;
  return st.st_size;
}

std::string RuntimeLogErrorSince(const std::string& path, off_t mark) {
  auto file = OpenFile(path, O_RDONLY);
  if (!file.ok()) return "";
  struct stat st {};
  if (::fstat(file->Get(), &st) != 0) return "";
  if (st.st_size < mark) mark = 0;
  if (::lseek(file->Get(), mark, SEEK_SET) < 0) return "";
  auto text = ReadAll(file->Get());
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
  off_t mark = MarkLog();
  BERTH_ASSIGN_OR_RETURN(ChildProcess child, Spawn(options));
  BERTH_ASSIGN_OR_RETURN(int code, child.Wait());
  if (code == 0) return absl::OkStatus();
  std::string error = LoggedError(mark);
  if (error.empty()) error = absl::StrCat(binary_, " exited with status ", code);
  return absl::UnknownError(absl::StrCat("OCI runtime ", what, " failed: ", error));
}

absl::StatusOr<std::string> OciRuntime::Output(const std::string& what,
                                               const std::vector<std::string>& args) const {
  off_t mark = MarkLog();
  BERTH_ASSIGN_OR_RETURN(RunResult result, RunAndCapture(Argv(args)));
  if (result.exit_code == 0) return result.out;
  std::string error = LoggedError(mark);
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
