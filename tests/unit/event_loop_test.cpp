#include "common/event_loop.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/fd_util.h"

using berth::EventLoop;
using berth::UniqueFd;

namespace {

// An eventfd that is readable from the start (counter 1).
UniqueFd ReadableEventFd() { return UniqueFd(::eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK)); }

void Drain(int fd) {
  uint64_t value;
  (void)!::read(fd, &value, sizeof value);
}

}  // namespace

TEST_CASE("event loop dispatches a readable fd, stops, and forgets removed fds") {
  EventLoop loop;
  REQUIRE(loop.ok());
  auto pipe = berth::MakePipe();
  REQUIRE(pipe.ok());
  int read_end = pipe->first.Get();
  std::vector<uint32_t> seen;
  REQUIRE(loop.Add(read_end, EPOLLIN,
                   [&](uint32_t events) {
                     seen.push_back(events);
                     char c;
                     REQUIRE(::read(read_end, &c, 1) == 1);
                     CHECK(c == 'x');
                     loop.Stop();
                   })
              .ok());
  CHECK(loop.Watching(read_end));
  REQUIRE(berth::WriteAll(pipe->second.Get(), "x").ok());
  REQUIRE(loop.Run().ok());
  REQUIRE(seen.size() == 1);
  CHECK((seen[0] & EPOLLIN) != 0);

  // A second Run after Stop dispatches again.
  REQUIRE(berth::WriteAll(pipe->second.Get(), "x").ok());
  REQUIRE(loop.Run().ok());
  CHECK(seen.size() == 2);

  loop.Remove(read_end);
  CHECK_FALSE(loop.Watching(read_end));
  loop.Remove(read_end);  // unknown fd: no-op
  // Removed: data on the pipe no longer dispatches; only the stopper runs.
  REQUIRE(berth::WriteAll(pipe->second.Get(), "x").ok());
  UniqueFd stopper = ReadableEventFd();
  REQUIRE(loop.Add(stopper.Get(), EPOLLIN,
                   [&](uint32_t) {
                     Drain(stopper.Get());
                     loop.Stop();
                   })
              .ok());
  REQUIRE(loop.Run().ok());
  CHECK(seen.size() == 2);
}

TEST_CASE("event loop refuses a second Add of one fd and a bad fd") {
  EventLoop loop;
  REQUIRE(loop.ok());
  UniqueFd efd = ReadableEventFd();
  REQUIRE(loop.Add(efd.Get(), EPOLLIN, [](uint32_t) {}).ok());
  CHECK(loop.Add(efd.Get(), EPOLLIN, [](uint32_t) {}).code() == absl::StatusCode::kAlreadyExists);
  auto st = loop.Add(999999, EPOLLIN, [](uint32_t) {});
  CHECK_FALSE(st.ok());
  CHECK_FALSE(loop.Watching(999999));
  CHECK(loop.Modify(999999, EPOLLIN).code() == absl::StatusCode::kNotFound);
}

TEST_CASE("event loop Modify switches the watched events") {
  EventLoop loop;
  REQUIRE(loop.ok());
  auto pipe = berth::MakePipe();
  REQUIRE(pipe.ok());
  int write_end = pipe->second.Get();
  uint32_t got = 0;
  // EPOLLIN never fires on a write end; only after Modify(EPOLLOUT) does it.
  REQUIRE(loop.Add(write_end, EPOLLIN,
                   [&](uint32_t events) {
                     got = events;
                     loop.Stop();
                   })
              .ok());
  REQUIRE(loop.Modify(write_end, EPOLLOUT).ok());
  REQUIRE(loop.Run().ok());
  CHECK((got & EPOLLOUT) != 0);
}

TEST_CASE("a callback that removes itself keeps running with its captures alive") {
  EventLoop loop;
  REQUIRE(loop.ok());
  UniqueFd efd = ReadableEventFd();
  int fd = efd.Get();
  auto marker = std::make_shared<std::string>("still here");
  std::weak_ptr<std::string> weak = marker;
  std::string after_remove;
  int calls = 0;
  REQUIRE(loop.Add(fd, EPOLLIN,
                   [&, fd, marker = std::move(marker)](uint32_t) {
                     ++calls;
                     loop.Remove(fd);
                     // The callback object (and so `marker`) must outlive Remove.
                     after_remove = *marker;
                     loop.Stop();
                   })
              .ok());
  REQUIRE(loop.Run().ok());
  CHECK(calls == 1);
  CHECK(after_remove == "still here");
  CHECK_FALSE(loop.Watching(fd));
  CHECK(weak.expired());  // the callback was released after it returned
}

TEST_CASE("a callback removed earlier in the same batch is not called") {
  EventLoop loop;
  REQUIRE(loop.ok());
  UniqueFd a = ReadableEventFd();
  UniqueFd b = ReadableEventFd();
  UniqueFd stop = ReadableEventFd();
  int calls = 0;
  auto remove_both = [&](uint32_t) {
    ++calls;
    loop.Remove(a.Get());
    loop.Remove(b.Get());
  };
  REQUIRE(loop.Add(a.Get(), EPOLLIN, remove_both).ok());
  REQUIRE(loop.Add(b.Get(), EPOLLIN, remove_both).ok());
  REQUIRE(loop.Add(stop.Get(), EPOLLIN, [&](uint32_t) { loop.Stop(); }).ok());
  // All three are readable before Run: one epoll_wait batch holds them all.
  REQUIRE(loop.Run().ok());
  CHECK(calls == 1);
}

TEST_CASE("an fd removed, closed and re-added in the same batch gets no stale event") {
  EventLoop loop;
  REQUIRE(loop.ok());
  UniqueFd a = ReadableEventFd();
  UniqueFd b = ReadableEventFd();
  UniqueFd stop = ReadableEventFd();
  UniqueFd replacement;
  int first_calls = 0;
  int replacement_calls = 0;
  auto replace_other = [&](int other) {
    ++first_calls;
    loop.Remove(other);
    // A new, not readable, file under the same number.
    UniqueFd fresh(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    REQUIRE(::dup3(fresh.Get(), other, O_CLOEXEC) == other);
    REQUIRE(loop.Add(other, EPOLLIN, [&](uint32_t) { ++replacement_calls; }).ok());
    loop.Remove(other == a.Get() ? b.Get() : a.Get());
  };
  REQUIRE(loop.Add(a.Get(), EPOLLIN, [&](uint32_t) { replace_other(b.Get()); }).ok());
  REQUIRE(loop.Add(b.Get(), EPOLLIN, [&](uint32_t) { replace_other(a.Get()); }).ok());
  REQUIRE(loop.Add(stop.Get(), EPOLLIN, [&](uint32_t) { loop.Stop(); }).ok());
  REQUIRE(loop.Run().ok());
  CHECK(first_calls == 1);
  CHECK(replacement_calls == 0);
}

TEST_CASE("event loop Run carries on after a signal interrupts epoll_wait") {
  struct sigaction action {};
  struct sigaction old {};
  action.sa_handler = [](int) {};
  sigemptyset(&action.sa_mask);
  REQUIRE(::sigaction(SIGUSR1, &action, &old) == 0);

  EventLoop loop;
  REQUIRE(loop.ok());
  auto pipe = berth::MakePipe();
  REQUIRE(pipe.ok());
  int calls = 0;
  REQUIRE(loop.Add(pipe->first.Get(), EPOLLIN,
                   [&](uint32_t) {
                     ++calls;
                     loop.Stop();
                   })
              .ok());
  pthread_t self = ::pthread_self();
  int write_end = pipe->second.Get();
  std::thread poker([self, write_end] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ::pthread_kill(self, SIGUSR1);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    (void)!::write(write_end, "x", 1);
  });
  absl::Status st = loop.Run();
  poker.join();
  ::sigaction(SIGUSR1, &old, nullptr);
  CHECK(st.ok());
  CHECK(calls == 1);
}
