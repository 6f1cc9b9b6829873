#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "common/fd_util.h"
#include "highlevel-runtime/tasks/shim_log.h"

using berth::LogLevel;
using berth::runtimed::ParseShimLogLine;

TEST_CASE("shim log lines: logrus text keeps level, message and extra fields") {
  auto line = ParseShimLogLine(
      "time=\"2026-11-29T01:00:00.5Z\" level=debug msg=\"publish \\\"/tasks/exit\\\" x\"\n");
  CHECK(line.level == LogLevel::kDebug);
  CHECK(line.message == "publish \"/tasks/exit\" x");

  line = ParseShimLogLine(
      "time=\"2026-11-29T01:00:00Z\" level=warning msg=\"no OOM events\" "
      "runtime=io.containerd.runc.v2 "
      "pid=\"1 2\"");
  CHECK(line.level == LogLevel::kWarn);
  CHECK(line.message == "no OOM events runtime=io.containerd.runc.v2 pid=\"1 2\"");

  line = ParseShimLogLine("level=fatal msg=bare");
  CHECK(line.level == LogLevel::kError);
  CHECK(line.message == "bare");
}

TEST_CASE("shim log lines: JSON objects, and anything else as it is at info") {
  auto line = ParseShimLogLine(R"({"level":"error","msg":"boom","time":"t","id":"c1"})");
  CHECK(line.level == LogLevel::kError);
  CHECK(line.message == "boom id=c1");

  for (const char* raw : {"panic: runtime error: index out of range", "goroutine 1 [running]:",
                          "level=info no message", "msg=\"unterminated", "{\"not\": \"a log\"}"}) {
    INFO(raw);
    line = ParseShimLogLine(raw);
    CHECK(line.level == LogLevel::kInfo);
    CHECK(line.message == raw);
  }
}

TEST_CASE("the shim log fifo is created, reopened, and refused when not a fifo") {
  std::string dir = std::filesystem::temp_directory_path() / "berth-shim-log-XXXXXX";
  REQUIRE(::mkdtemp(dir.data()) != nullptr);
  std::string path = dir + "/log";
  REQUIRE(berth::WriteStringToFile(path, "old regular file").ok());
  {
    auto fifo = berth::runtimed::CreateShimLogFifo(path);
    REQUIRE(fifo.ok());
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK(S_ISFIFO(st.st_mode));
    // A writer opens it without waiting, and never gets EPIPE while we hold it.
    berth::UniqueFd writer(::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    REQUIRE(writer);
    CHECK(::write(writer.Get(), "x\n", 2) == 2);
    auto again = berth::runtimed::OpenShimLogFifo(path);
    CHECK(again.ok());
  }
  std::string regular = dir + "/regular";
  REQUIRE(berth::WriteStringToFile(regular, "").ok());
  auto refused = berth::runtimed::OpenShimLogFifo(regular);
  CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the forwarder writes each shim line into the log with the task as fields") {
  std::string dir = std::filesystem::temp_directory_path() / "berth-shim-log-XXXXXX";
  REQUIRE(::mkdtemp(dir.data()) != nullptr);
  std::string log_path = dir + "/runtimed.log";
  berth::LogConfig saved = berth::CurrentLogConfig();
  REQUIRE(berth::ConfigureLogging({.level = LogLevel::kDebug, .path = log_path}).ok());
  {
    berth::runtimed::ShimLogForwarder forwarder;
    REQUIRE(forwarder.status().ok());
    auto fifo = berth::runtimed::CreateShimLogFifo(dir + "/log");
    REQUIRE(fifo.ok());
    REQUIRE(forwarder.Add("ns1", "task1", std::move(*fifo)).ok());
    berth::UniqueFd shim(::open((dir + "/log").c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
    REQUIRE(shim);
    std::string lines =
        "time=\"t\" level=info msg=\"first line\"\ntime=\"t\" level=debug msg=second\nno newline";
    REQUIRE(berth::WriteAll(shim.Get(), lines).ok());
    std::string text;
    for (int i = 0; i < 200 && text.find("msg=\"second\"") == std::string::npos; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      text = *berth::ReadFileToString(log_path);
    }
    CHECK(text.find("level=info msg=\"first line\" namespace=ns1 id=task1\n") != std::string::npos);
    CHECK(text.find("level=debug msg=\"second\" namespace=ns1 id=task1\n") != std::string::npos);
    CHECK(text.find("no newline") == std::string::npos);
    forwarder.Remove("ns1", "task1");  // what is left goes out
    text = *berth::ReadFileToString(log_path);
    CHECK(text.find("level=info msg=\"no newline\" namespace=ns1 id=task1\n") != std::string::npos);
  }
  REQUIRE(berth::ConfigureLogging(saved).ok());
  std::filesystem::remove_all(dir);
}
