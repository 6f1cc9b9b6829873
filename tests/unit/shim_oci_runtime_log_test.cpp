// The shim's reading of the OCI runtime's log (BUNDLE/log.json): a failed
// command reports only what it logged itself, and the file stays bounded.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/fd_util.h"
#include "shim/oci_runtime.h"

namespace {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/berth-shim-log-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

std::string ErrorLine(const std::string& msg) {
  return absl::StrCat(R"({"level":"error","msg":")", msg, R"(","time":"2025-01-01T00:00:00Z"})",
                      "\n");
}

void Append(const std::string& path, const std::string& text) {
  auto old = berth::ReadFileToString(path);
  REQUIRE(berth::WriteStringToFile(path, (old.ok() ? *old : "") + text).ok());
}

}  // namespace

using berth::shim::RuntimeLogErrorSince;
using berth::shim::RuntimeLogMark;

TEST_CASE("shim runtime log: only the lines after the mark count") {
  TempDir dir;
  std::string log = dir.path + "/log.json";
  CHECK(RuntimeLogMark(log) == 0);  // no log yet
  CHECK(RuntimeLogErrorSince(log, 0).empty());

  Append(log, ErrorLine("old failure"));
  off_t mark = RuntimeLogMark(log);
  CHECK(mark == static_cast<off_t>(ErrorLine("old failure").size()));
  // A command that logged nothing reports no error, not the old one.
  CHECK(RuntimeLogErrorSince(log, mark).empty());

  Append(log, R"({"level":"warning","msg":"a warning"})"
              "\nnot json\n" +
                  ErrorLine("first") + R"({"level":"info","msg":"after"})" + "\n" +
                  ErrorLine("second"));
  CHECK(RuntimeLogErrorSince(log, mark) == "second");
  CHECK(RuntimeLogErrorSince(log, 0) == "second");
}

TEST_CASE("shim runtime log: a log over the limit is emptied before a command") {
  TempDir dir;
  std::string log = dir.path + "/log.json";
  std::string line = ErrorLine("stale");
  std::string text;
  while (text.size() <= 4096) text += line;
  Append(log, text);
  // At or under the limit the log is kept.
  CHECK(RuntimeLogMark(log, static_cast<off_t>(text.size())) == static_cast<off_t>(text.size()));
  CHECK(std::filesystem::file_size(log) == text.size());
  // Over it, emptied: the command's lines start at 0.
  CHECK(RuntimeLogMark(log, 4096) == 0);
  CHECK(std::filesystem::file_size(log) == 0);
  Append(log, ErrorLine("fresh"));
  CHECK(RuntimeLogErrorSince(log, 0) == "fresh");
}

TEST_CASE("shim runtime log: a log emptied during a command is read from its start") {
  TempDir dir;
  std::string log = dir.path + "/log.json";
  Append(log, ErrorLine("one") + ErrorLine("two"));
  off_t mark = RuntimeLogMark(log);
  REQUIRE(berth::WriteStringToFile(log, ErrorLine("three")).ok());
  CHECK(RuntimeLogErrorSince(log, mark) == "three");
}

TEST_CASE("shim runtime log: each failed command reports its own error") {
  TempDir dir;
  // A stand-in runtime: `--root R --log L --log-format json CMD [MSG]` logs
  // MSG as an error when given, and fails.
  std::string fake = dir.path + "/fake-runtime";
  REQUIRE(
      berth::WriteStringToFile(fake,
                               "#!/bin/sh\n"
                               "[ -n \"$8\" ] && printf '{\"level\":\"error\",\"msg\":\"%s\"}\\n' "
                               "\"$8\" >> \"$4\"\n"
                               "exit 3\n",
                               0755)
          .ok());
  berth::shim::OciRuntime runtime(fake, dir.path + "/root", dir.path);
  auto first = runtime.Run("create", {"create", "no config.json"});
  CHECK(first.message() == "OCI runtime create failed: no config.json");
  auto second = runtime.Run("start", {"start"});
  CHECK(second.message() ==
        absl::StrCat("OCI runtime start failed: ", fake, " exited with status 3"));
  auto third = runtime.Output("ps", {"ps", "container not running"});
  CHECK(third.status().message() == "OCI runtime ps failed: container not running");
}
