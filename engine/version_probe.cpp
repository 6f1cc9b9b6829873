#include "engine/version_probe.h"

#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/process.h"

namespace berth::engine {

ComponentVersion ParseVersionText(const std::string& name, const std::string& text) {
  ComponentVersion c{name, "", ""};
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (size_t at = line.find(" version "); at != absl::string_view::npos && c.version.empty()) {
      c.version = std::string(absl::StripAsciiWhitespace(line.substr(at + 9)));
    } else if (absl::ConsumePrefix(&line, "commit:")) {
      c.git_commit = std::string(absl::StripAsciiWhitespace(line));
    }
  }
  return c;
}

std::vector<ComponentVersion> ProbeComponents(RuntimedClient& runtimed,
                                              const DaemonOptions& options) {
  std::vector<ComponentVersion> out;
  api::VersionResponse version;
  if (runtimed.version()
          .Version(runtimed.Context(std::chrono::seconds(5)).get(), api::VersionRequest(), &version)
          .ok()) {
    out.push_back({"berth-runtimed", version.version(), version.revision()});
  }
  // The binaries do not change under a running berthd: ask them once.
  static std::once_flag once;
  static std::vector<ComponentVersion> binaries;
  std::call_once(once, [&] {
    std::string shim = options.runtime == "io.containerd.runc.v2" ? "containerd-shim-runc-v2"
                                                                  : "containerd-shim-berth-v2";
    std::string oci = options.runtime_binary.empty()
                          ? (options.runtime == "io.containerd.runc.v2" ? "runc" : "berth-oci")
                          : options.runtime_binary;
    for (const auto& [name, argv] : std::vector<std::pair<std::string, std::vector<std::string>>>{
             {shim, {shim, "-v"}}, {oci, {oci, "--version"}}}) {
      auto run = RunAndCapture(argv);
      if (run.ok() && run->exit_code == 0) binaries.push_back(ParseVersionText(name, run->out));
    }
    binaries.push_back({"docker-init", "", ""});
    auto init = RunAndCapture({options.init_path, "--version"});
    if (init.ok() && init->exit_code == 0) {
      // "tini version 0.19.0 - git.de40ad0"
      std::string text(absl::StripAsciiWhitespace(init->out));
      std::vector<std::string> words = absl::StrSplit(text, ' ');
      binaries.back().version = words.size() > 2 ? words[2] : text;
      if (size_t at = text.find("git."); at != std::string::npos) {
        binaries.back().git_commit = text.substr(at + 4);
      }
    } else {
      binaries.pop_back();
    }
  });
  out.insert(out.end(), binaries.begin(), binaries.end());
  return out;
}

}  // namespace berth::engine
