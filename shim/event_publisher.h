// Publishes task events to containerd the way its shims do: a ttrpc call
// containerd.services.events.ttrpc.v1.Events/Forward at TTRPC_ADDRESS, the
// event wrapped in an Any whose type URL is "containerd.events.<Name>".
// Events are sent in order, one at a time; one that cannot be delivered
// (containerd is down) is logged and dropped, as containerd resyncs task state
// from the shim when it comes back.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "common/ttrpc/client.h"

namespace google::protobuf {
class MessageLite;
}

namespace berth::shim {

class EventPublisher {
 public:
  // ttrpc_address: containerd's ttrpc socket (empty: events are only logged).
  EventPublisher(std::string ttrpc_address, std::string namespace_name)
      : address_(std::move(ttrpc_address)), namespace_(std::move(namespace_name)) {}

  // topic: e.g. "/tasks/exit"; type_name: e.g. "TaskExit".
  void Publish(absl::string_view topic, absl::string_view type_name,
               const google::protobuf::MessageLite& event);

 private:
  std::string address_;
  std::string namespace_;
  std::optional<ttrpc::Client> client_;
};

}  // namespace berth::shim
