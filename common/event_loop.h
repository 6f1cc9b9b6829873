// A single-threaded epoll loop: callbacks on fd readiness, until Stop(). The
// shim runs everything on one of these (one thread when idle).
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>

#include "absl/status/status.h"
#include "common/unique_fd.h"

namespace berth {

class EventLoop {
 public:
  // events: the EPOLL* bits that fired (EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR).
  using Callback = std::function<void(uint32_t events)>;

  EventLoop();  // check ok() before use
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  bool ok() const { return epoll_.Valid(); }
  // Watches fd (which the caller keeps open until Remove) for `events`.
  absl::Status Add(int fd, uint32_t events, Callback callback);
  absl::Status Modify(int fd, uint32_t events);
  // Stops watching fd; safe from inside any callback, including fd's own.
  void Remove(int fd);
  bool Watching(int fd) const { return callbacks_.count(fd) != 0; }
  // Dispatches until Stop() is called (from a callback) or epoll fails. Each
  // Run() starts afresh (clears an earlier Stop()); the batch in hand when
  // Stop() is called is still dispatched.
  absl::Status Run();
  void Stop() { stopped_ = true; }

 private:
  UniqueFd epoll_;
  // shared_ptr: a callback that removes itself stays alive until it returns.
  std::unordered_map<int, std::shared_ptr<Callback>> callbacks_;
  // Per-Add tag carried in epoll_event.data: an event queued for an fd that was
  // removed, closed and re-added (same number) in the same batch is dropped.
  std::unordered_map<int, uint32_t> generations_;
  uint32_t next_generation_ = 0;
  bool stopped_ = false;
};

}  // namespace berth
