// A container's output fanned out to the clients attached to it. A client
// subscribes before or during a run and gets everything the run writes from
// then on, then the end of that run (Docker's attach: `docker start -a`
// attaches to a created container and waits for it).
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace berth::engine {

enum class StreamKind { kStdout = 1, kStderr = 2 };

class OutputSubscriber {
 public:
  struct Chunk {
    StreamKind stream;
    std::string data;
  };
  enum class Next { kChunk, kTimeout, kEnd };
  // Waits up to timeout for the next chunk.
  Next Pop(Chunk& out, absl::Duration timeout);

 private:
  friend class OutputHub;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Chunk> chunks_;
  size_t bytes_ = 0;
  bool ended_ = false;
};

class OutputHub {
 public:
  std::shared_ptr<OutputSubscriber> Subscribe();
  void Unsubscribe(const std::shared_ptr<OutputSubscriber>& s);
  // A subscriber that stops reading loses what goes past its 64 MiB backlog
  // rather than making the container's output wait.
  void Publish(StreamKind stream, const std::string& data);
  // The run ended: every current subscriber gets its end.
  void EndRun();

 private:
  std::mutex mu_;
  std::vector<std::shared_ptr<OutputSubscriber>> subscribers_;
};

}  // namespace berth::engine
