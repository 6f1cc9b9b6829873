// `state ID` and `list`.
#include <fmt/format.h>
#include <sys/stat.h>

#include <fstream>
#include <iostream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/json.h"
#include "common/status.h"
#include "lowlevel-runtime/commands.h"
#include "lowlevel-runtime/container_state.h"

namespace berth::oci {
namespace {

// The name of uid from /etc/passwd, or the number: berth-oci is linked
// statically, where getpwuid would need glibc's NSS modules at run time.
std::string UserName(uid_t uid) {
  std::ifstream passwd("/etc/passwd");
  std::string line;
  while (std::getline(passwd, line)) {
    std::vector<std::string> fields = absl::StrSplit(line, ':');
    if (fields.size() > 2 && fields[2] == std::to_string(uid)) return fields[0];
  }
  return std::to_string(uid);
}

}  // namespace

absl::Status State(const GlobalOptions& global, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(ContainerState state, LoadState(global.root, id));
  std::cout << DumpJson(StateJson(state, CurrentStatus(global.root, state)), 2) << "\n";
  return absl::OkStatus();
}

absl::Status List(const GlobalOptions& global, const std::string& format, bool quiet) {
  if (format != "table" && format != "json") {
    return absl::InvalidArgumentError(absl::StrCat("invalid format option: ", format));
  }
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> ids, ListContainerIds(global.root));
  if (quiet) {
    for (const std::string& id : ids) std::cout << id << "\n";
    return absl::OkStatus();
  }
  Json all = Json::array();
  std::string table = fmt::format("{:<12} {:<10} {:<10} {:<40} {:<30} {}\n", "ID", "PID", "STATUS",
                                  "BUNDLE", "CREATED", "OWNER");
  for (const std::string& id : ids) {
    auto state = LoadState(global.root, id);
    if (!state.ok()) continue;  // removed meanwhile
    Status status = CurrentStatus(global.root, *state);
    struct stat st;
    std::string owner;
    if (::stat(StateDir(global.root, id).c_str(), &st) == 0) owner = UserName(st.st_uid);
    Json j = StateJson(*state, status);
    j["owner"] = owner;
    all.push_back(j);
    table += fmt::format("{:<12} {:<10} {:<10} {:<40} {:<30} {}\n", id,
                         status == Status::kStopped ? 0 : state->pid,
                         std::string(StatusName(status)), state->bundle, state->created, owner);
  }
  if (format == "json") {
    std::cout << DumpJson(all) << "\n";
  } else {
    std::cout << table;
  }
  return absl::OkStatus();
}

}  // namespace berth::oci
