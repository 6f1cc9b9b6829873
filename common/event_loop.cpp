#include "common/event_loop.h"

#include <sys/epoll.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace berth {
namespace {

uint64_t Tag(int fd, uint32_t generation) {
  return (uint64_t{generation} << 32) | static_cast<uint32_t>(fd);
}

}  // namespace

EventLoop::EventLoop() : epoll_(::epoll_create1(EPOLL_CLOEXEC)) {}

absl::Status EventLoop::Add(int fd, uint32_t events, Callback callback) {
  if (!ok()) return absl::FailedPreconditionError("event loop: epoll_create1 failed");
  if (Watching(fd)) {
    return absl::AlreadyExistsError(absl::StrCat("event loop: fd ", fd, " is already watched"));
  }
  uint32_t generation = ++next_generation_;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = Tag(fd, generation);
  if (::epoll_ctl(epoll_.Get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    return LastErrnoError(absl::StrCat("epoll_ctl add fd ", fd));
  }
  callbacks_[fd] = std::make_shared<Callback>(std::move(callback));
  generations_[fd] = generation;
  return absl::OkStatus();
}

absl::Status EventLoop::Modify(int fd, uint32_t events) {
  auto it = generations_.find(fd);
  if (it == generations_.end()) {
    return absl::NotFoundError(absl::StrCat("event loop: fd ", fd, " is not watched"));
  }
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = Tag(fd, it->second);
  if (::epoll_ctl(epoll_.Get(), EPOLL_CTL_MOD, fd, &ev) != 0) {
    return LastErrnoError(absl::StrCat("epoll_ctl modify fd ", fd));
  }
  return absl::OkStatus();
}

void EventLoop::Remove(int fd) {
  if (callbacks_.erase(fd) == 0) return;
  generations_.erase(fd);
  // Fails only when the caller already closed fd, which dropped it from the set.
  ::epoll_ctl(epoll_.Get(), EPOLL_CTL_DEL, fd, nullptr);
}

absl::Status EventLoop::Run() {
  if (!ok()) return absl::FailedPreconditionError("event loop: epoll_create1 failed");
  stopped_ = false;
  epoll_event events[64];
  while (!stopped_) {
    int n = ::epoll_wait(epoll_.Get(), events, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return LastErrnoError("epoll_wait");
    }
    // The whole batch is dispatched even after Stop(): an edge-triggered event
    // skipped now would not be reported again.
    for (int i = 0; i < n; ++i) {
      int fd = static_cast<int>(static_cast<uint32_t>(events[i].data.u64));
      uint32_t generation = static_cast<uint32_t>(events[i].data.u64 >> 32);
      auto gen = generations_.find(fd);
      if (gen == generations_.end() || gen->second != generation) continue;  // removed meanwhile
      auto it = callbacks_.find(fd);
      if (it == callbacks_.end()) continue;
      std::shared_ptr<Callback> callback = it->second;  // survives a Remove from inside
      (*callback)(events[i].events);
    }
  }
  return absl::OkStatus();
}

}  // namespace berth
