// `state ID` and `list`.
#include <fmt/format.h>
#include <pwd.h>
#include <sys/stat.h>

#include <iostream>

#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "common/status.h"
#include "lowlevel-runtime/commands.h"
#include "lowlevel-runtime/container_state.h"

namespace berth::oci {

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
    std::string owner = "root";
    if (::stat(StateDir(global.root, id).c_str(), &st) == 0) {
      if (struct passwd* pw = ::getpwuid(st.st_uid)) owner = pw->pw_name;
    }
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
