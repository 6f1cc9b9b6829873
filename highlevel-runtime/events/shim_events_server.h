// Where the shims send their task events: a ttrpc server on a unix socket
// (the TTRPC_ADDRESS runtimed gives each shim) serving containerd's
// containerd.services.events.ttrpc.v1.Events/Forward, on its own thread.
// Forwarded envelopes go to the EventBus unchanged.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/event_loop.h"
#include "common/ttrpc/server.h"
#include "common/unique_fd.h"
#include "highlevel-runtime/events/event_bus.h"

namespace berth::runtimed {

class ShimEventsServer {
 public:
  static absl::StatusOr<std::unique_ptr<ShimEventsServer>> Start(const std::string& socket_path,
                                                                 EventBus& bus);
  ~ShimEventsServer();  // stops the thread, removes the socket

  const std::string& address() const { return path_; }

 private:
  ShimEventsServer(std::string path) : path_(std::move(path)), server_(loop_) {}
  std::string path_;
  EventLoop loop_;
  ttrpc::Server server_;
  UniqueFd wake_;
  std::thread thread_;
};

}  // namespace berth::runtimed
