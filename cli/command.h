// What every command gets: the daemon client (connected and version-negotiated
// on first use), stdout/stderr writers, and the way it is registered.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/api_client.h"

namespace CLI {
class App;
}  // namespace CLI

namespace berth::cli {

class CliContext {
 public:
  explicit CliContext(std::string host) : host_(std::move(host)) {}

  const std::string& host() const { return host_; }
  // The client after HEAD /_ping; the error is "Cannot connect to …".
  absl::StatusOr<ApiClient*> Client();

  // Writes to stdout / stderr right away (unbuffered, so they interleave
  // as the user would see them).
  static void Out(std::string_view s);
  static void Err(std::string_view s);
  static bool StdoutIsTerminal();
  static bool StdinIsTerminal();

 private:
  std::string host_;
  std::optional<ApiClient> client_;
};

// A command: its CLI11 subcommand plus what runs it. usage is docker's Use
// line without the binary ("stop [OPTIONS] CONTAINER [CONTAINER...]").
struct CommandSpec {
  CLI::App* app = nullptr;
  std::string name;
  std::string usage;
  std::string description;
  std::function<int(CliContext&)> run;
  // Positional args, checked before run: at least min, at most max (-1: any).
  std::vector<std::string>* args = nullptr;
  int min_args = 0;
  int max_args = -1;
  // run and create: flags stop at the first positional (IMAGE); the
  // positional and everything after it are handed over here, unparsed.
  std::function<void(std::vector<std::string>)> set_tail;
};

using Registry = std::vector<CommandSpec>;

// Each file under commands/ registers its commands on the root app.
void RegisterSystemCommands(CLI::App& root, Registry& reg);
void RegisterRunCommands(CLI::App& root, Registry& reg);
void RegisterLifecycleCommands(CLI::App& root, Registry& reg);
void RegisterPsCommand(CLI::App& root, Registry& reg);
void RegisterInspectCommand(CLI::App& root, Registry& reg);
void RegisterImageCommands(CLI::App& root, Registry& reg);
void RegisterContainerCommands(CLI::App& root, Registry& reg);

// "Error response from daemon: …" (or any error) on stderr; returns 1.
int ReportError(const absl::Status& status);

}  // namespace berth::cli

namespace berth::cli {

// Pulls image (POST /images/create) rendering the progress to fd (stdout or
// stderr, as a terminal when it is one); quiet discards it. Returns the
// stream's error ("manifest unknown", …) or the daemon's.
absl::Status PullImage(ApiClient* client, const std::string& image, int fd, bool quiet);

// docker's run/create error line: "berth: <msg>." + "See 'berth <cmd> --help'."
void ReportRunError(const std::string& cmd, std::string_view msg, bool with_help);

}  // namespace berth::cli
