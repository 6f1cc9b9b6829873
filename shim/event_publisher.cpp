#include "shim/event_publisher.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "containerd/events/forward.pb.h"
#include "shim/proto_time.h"

namespace berth::shim {

void EventPublisher::Publish(absl::string_view topic, absl::string_view type_name,
                             const google::protobuf::MessageLite& event) {
  LogDebug("publish {} {}", topic, type_name);
  if (address_.empty()) return;
  containerd::services::events::ttrpc::v1::ForwardRequest request;
  auto* envelope = request.mutable_envelope();
  SetTimestamp(absl::Now(), envelope->mutable_timestamp());
  envelope->set_namespace_(namespace_);
  envelope->set_topic(std::string(topic));
  envelope->mutable_event()->set_type_url(absl::StrCat("containerd.events.", type_name));
  envelope->mutable_event()->set_value(event.SerializeAsString());
  std::string payload = request.SerializeAsString();
  // One retry on a fresh connection: containerd may have restarted.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!client_) {
      auto client = ttrpc::Client::Connect(address_);
      if (!client.ok()) {
        LogWarn("publish {}: {}", topic, client.status().message());
        return;
      }
      client_.emplace(std::move(*client));
    }
    auto reply = client_->Call("containerd.services.events.ttrpc.v1.Events", "Forward", payload,
                               absl::Seconds(5));
    if (reply.ok()) return;
    client_.reset();
    if (attempt == 1) LogWarn("publish {}: {}", topic, reply.status().message());
  }
}

}  // namespace berth::shim
