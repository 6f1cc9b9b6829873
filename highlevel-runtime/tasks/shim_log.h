// The shims' logs, as containerd takes them: each task bundle's `log` is a
// fifo that runtimed creates and holds open for reading and writing (so it
// never sees end-of-file, and a shim can open it before, while and after
// runtimed runs); the shim writes its log lines into it. One thread reads
// every shim's fifo and forwards each line into runtimed's own log, with the
// task's namespace and id as fields. Nothing is stored: the log cannot grow.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/log.h"
#include "common/unique_fd.h"

namespace berth::runtimed {

// A shim's log line: logrus text (`time=… level=… msg=… k=v…`, what our
// shim and containerd's write) or a JSON object with level and msg. Fields
// after msg are kept, appended to the message. Anything else is the message
// itself, at info.
struct ShimLogLine {
  LogLevel level = LogLevel::kInfo;
  std::string message;
};
ShimLogLine ParseShimLogLine(absl::string_view line);

// Makes `path` a fifo (replacing what is there) and opens it for reading and
// writing, non-blocking: the read end runtimed hands to ShimLogForwarder::Add.
absl::StatusOr<UniqueFd> CreateShimLogFifo(const std::string& path);
// Opens an existing `log` fifo (after a restart); FailedPrecondition if it
// is not a fifo (a bundle from a runtimed that wrote a regular file).
absl::StatusOr<UniqueFd> OpenShimLogFifo(const std::string& path);

class ShimLogForwarder {
 public:
  ShimLogForwarder();  // starts the reading thread; check status()
  ~ShimLogForwarder();
  ShimLogForwarder(const ShimLogForwarder&) = delete;
  ShimLogForwarder& operator=(const ShimLogForwarder&) = delete;

  const absl::Status& status() const { return status_; }
  // Forwards what the shim of ns/id writes into `fifo` (replacing an earlier one).
  absl::Status Add(const std::string& ns, const std::string& id, UniqueFd fifo);
  // Forwards what is left in the fifo, then stops watching and closes it.
  void Remove(const std::string& ns, const std::string& id);

 private:
  struct Source {
    std::string ns, id;
    UniqueFd fifo;
    std::string partial;  // a line not yet ended
  };
  using Key = std::pair<std::string, std::string>;

  void Run();
  // Reads what is there, forwards the whole lines; with `flush`, the rest too.
  void Drain(Source& source, bool flush);
  void RemoveLocked(std::map<uint64_t, Source>::iterator it);

  absl::Status status_;
  UniqueFd epoll_, wake_;
  std::mutex mu_;
  std::map<uint64_t, Source> sources_;  // by the tag epoll hands back
  std::map<Key, uint64_t> tags_;
  uint64_t next_tag_ = 1;  // 0 is the wake eventfd
  std::thread thread_;
};

}  // namespace berth::runtimed
