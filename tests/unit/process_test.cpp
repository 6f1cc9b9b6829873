#include "common/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "common/fd_util.h"

TEST_CASE("RunAndCapture returns exit code, stdout and stderr") {
  auto r = berth::RunAndCapture({"sh", "-c", "echo out; echo err >&2; exit 3"});
  REQUIRE(r.ok());
  CHECK(r->exit_code == 3);
  CHECK(r->out == "out\n");
  CHECK(r->err == "err\n");
}

TEST_CASE("RunAndCapture feeds stdin, larger than a pipe buffer") {
  ::signal(SIGPIPE, SIG_IGN);
  std::string input(200000, 'a');
  auto r = berth::RunAndCapture({"wc", "-c"}, input);
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);
  CHECK(std::stoi(r->out) == 200000);
}

TEST_CASE("a killed child reports 128 + signal") {
  auto r = berth::RunAndCapture({"sh", "-c", "kill -TERM $$"});
  REQUIRE(r.ok());
  CHECK(r->exit_code == 128 + SIGTERM);
}

TEST_CASE("spawning a missing binary fails with the exec errno") {
  auto child = berth::Spawn({.argv = {"/nonexistent/berth-binary"}});
  REQUIRE_FALSE(child.ok());
  CHECK(child.status().code() == absl::StatusCode::kNotFound);
  CHECK(child.status().message() == "exec /nonexistent/berth-binary: No such file or directory");
  CHECK_FALSE(berth::Spawn({}).ok());
}

TEST_CASE("only stdio and mapped descriptors reach the child") {
  // An fd without O_CLOEXEC would leak through a plain fork+exec.
  int leaky = ::open("/dev/null", O_RDONLY);
  REQUIRE(leaky >= 0);
  auto pipe = berth::MakePipe();
  REQUIRE(pipe.ok());
  auto out = berth::MakePipe();
  REQUIRE(out.ok());
  berth::SpawnOptions options;
  options.argv = {"sh", "-c", "ls /proc/self/fd | sort -n | tr '\\n' ' '"};
  options.fds = {{1, out->second.Get()}, {5, pipe->first.Get()}};
  auto child = berth::Spawn(options);
  REQUIRE(child.ok());
  out->second.Reset();
  auto listing = berth::ReadAll(out->first.Get());
  REQUIRE(listing.ok());
  CHECK(*child->Wait() == 0);
  // 0 1 2 5, plus the directory fd ls itself opens (3).
  CHECK(*listing == "0 1 2 3 5 ");
  ::close(leaky);
}

TEST_CASE("descriptor mappings may swap numbers") {
  auto a = berth::MakePipe();
  auto b = berth::MakePipe();
  REQUIRE((a.ok() && b.ok()));
  berth::SpawnOptions options;
  // Child fd 1 is our pipe a; child fd 2 is pipe b; cross-wire via small numbers.
  options.argv = {"sh", "-c", "echo to-a; echo to-b >&2"};
  options.fds = {{1, a->second.Get()}, {2, b->second.Get()}};
  auto child = berth::Spawn(options);
  REQUIRE(child.ok());
  a->second.Reset();
  b->second.Reset();
  CHECK(*berth::ReadAll(a->first.Get()) == "to-a\n");
  CHECK(*berth::ReadAll(b->first.Get()) == "to-b\n");
  CHECK(*child->Wait() == 0);
}

TEST_CASE("environment and cwd are applied") {
  auto out = berth::MakePipe();
  REQUIRE(out.ok());
  berth::SpawnOptions options;
  options.argv = {"/bin/sh", "-c", "echo $ONLY:$(pwd)"};
  options.env = std::vector<std::string>{"ONLY=yes"};
  options.cwd = "/tmp";
  options.fds = {{1, out->second.Get()}};
  auto child = berth::Spawn(options);
  REQUIRE(child.ok());
  out->second.Reset();
  CHECK(*berth::ReadAll(out->first.Get()) == "yes:/tmp\n");
  CHECK(*child->Wait() == 0);
}

TEST_CASE("a bad cwd is reported as the spawn error") {
  berth::SpawnOptions options;
  options.argv = {"true"};
  options.cwd = "/nonexistent-berth-cwd";
  auto child = berth::Spawn(options);
  CHECK(child.status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("destroying a running ChildProcess kills and reaps it") {
  pid_t pid;
  {
    auto child = berth::Spawn({.argv = {"sleep", "30"}});
    REQUIRE(child.ok());
    pid = child->pid();
  }
  // Reaped: no zombie left with that pid as our child.
  CHECK(::waitpid(pid, nullptr, WNOHANG) == -1);
  CHECK(errno == ECHILD);
}

TEST_CASE("WaitFor kills a child that outlives the timeout") {
  auto child = berth::Spawn({.argv = {"sleep", "30"}});
  REQUIRE(child.ok());
  auto code = child->WaitFor(absl::Milliseconds(50));
  CHECK(code.status().code() == absl::StatusCode::kDeadlineExceeded);
  auto quick = berth::Spawn({.argv = {"true"}});
  REQUIRE(quick.ok());
  CHECK(*quick->WaitFor(absl::Seconds(10)) == 0);
}

TEST_CASE("Detach leaves the child running") {
  auto child = berth::Spawn({.argv = {"sleep", "30"}});
  REQUIRE(child.ok());
  pid_t pid = child->Detach();
  CHECK(::kill(pid, 0) == 0);
  CHECK_FALSE(child->Wait().ok());
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}
