#include "common/log.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/time/time.h"
#include "common/fd_util.h"

namespace {
absl::Time FixedTime() { return absl::FromUnixMillis(1764349200123); }  // 2025-11-28T17:00:00.123Z
}  // namespace

TEST_CASE("text log lines look like logrus (what runc writes)") {
  std::string line = berth::FormatLogLine(berth::LogLevel::kWarn, berth::LogFormat::kText,
                                          "cgroup \"x\" busy", FixedTime());
  CHECK(line == "time=\"2025-11-28T17:00:00.123Z\" level=warning msg=\"cgroup \\\"x\\\" busy\"\n");
}

TEST_CASE("json log lines carry level, msg and time") {
  std::string line = berth::FormatLogLine(berth::LogLevel::kError, berth::LogFormat::kJson,
                                          "container not found", FixedTime());
  REQUIRE(line.back() == '\n');
  auto j = nlohmann::json::parse(line);
  CHECK(j["level"] == "error");
  CHECK(j["msg"] == "container not found");
  CHECK(j["time"] == "2025-11-28T17:00:00.123Z");
}

TEST_CASE("invalid UTF-8 in a message does not throw") {
  std::string line = berth::FormatLogLine(berth::LogLevel::kInfo, berth::LogFormat::kJson,
                                          std::string("bad \xff byte"), FixedTime());
  CHECK(nlohmann::json::parse(line)["level"] == "info");
}

TEST_CASE("log levels and formats parse, unknown ones are errors") {
  CHECK(*berth::ParseLogLevel("debug") == berth::LogLevel::kDebug);
  CHECK(*berth::ParseLogLevel("WARN") == berth::LogLevel::kWarn);
  CHECK(*berth::ParseLogLevel("warning") == berth::LogLevel::kWarn);
  CHECK(*berth::ParseLogLevel("error") == berth::LogLevel::kError);
  auto bad = berth::ParseLogLevel("loud");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "unknown log level \"loud\" (want debug, info, warn or error)");
  CHECK(*berth::ParseLogFormat("json") == berth::LogFormat::kJson);
  CHECK_FALSE(berth::ParseLogFormat("xml").ok());
}

TEST_CASE("logging to a file honours level and format") {
  char tmpl[] = "/tmp/berth-log-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string file = dir + "/log.json";
  REQUIRE(berth::ConfigureLogging(
              {.level = berth::LogLevel::kInfo, .format = berth::LogFormat::kJson, .path = file})
              .ok());
  berth::LogDebug("hidden {}", 1);
  berth::LogInfo("shown {}", 2);
  berth::LogError("also {}", "shown");
  REQUIRE(berth::ConfigureLogging({}).ok());  // back to stderr, closes the file
  auto text = berth::ReadFileToString(file);
  REQUIRE(text.ok());
  CHECK(text->find("hidden") == std::string::npos);
  auto first = nlohmann::json::parse(text->substr(0, text->find('\n')));
  CHECK(first["msg"] == "shown 2");
  CHECK(text->find("\"msg\":\"also shown\"") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("logging to an unwritable path fails and keeps the old destination") {
  auto st = berth::ConfigureLogging({.path = "/nonexistent-berth-dir/log"});
  CHECK(st.code() == absl::StatusCode::kNotFound);
  CHECK(berth::LogFd() == 2);
}

TEST_CASE("fields follow the message, quoted as logrus quotes them") {
  berth::LogFields fields = {{"namespace", "berth"}, {"id", "web 1"}, {"empty", ""}};
  CHECK(berth::FormatLogLine(berth::LogLevel::kInfo, berth::LogFormat::kText, "hi", FixedTime(),
                             fields) ==
        "time=\"2025-11-28T17:00:00.123Z\" level=info msg=\"hi\" namespace=berth id=\"web 1\" "
        "empty=\"\"\n");
  auto j =
      nlohmann::json::parse(berth::FormatLogLine(berth::LogLevel::kInfo, berth::LogFormat::kJson,
                                                 "hi", FixedTime(), {{"id", "web"}, {"msg", "x"}}));
  CHECK(j["id"] == "web");
  CHECK(j["msg"] == "hi");
  CHECK(j["fields.msg"] == "x");
}
