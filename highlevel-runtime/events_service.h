// berth.runtime.v1.Events: Subscribe, a stream of the EventBus's envelopes.
#pragma once

#include "berth/runtime/v1/events.grpc.pb.h"
#include "highlevel-runtime/events/event_bus.h"

namespace berth::runtimed {

class EventsService final : public berth::runtime::v1::Events::Service {
 public:
  explicit EventsService(EventBus& bus) : bus_(bus) {}
  grpc::Status Subscribe(grpc::ServerContext* context,
                         const berth::runtime::v1::SubscribeRequest* request,
                         grpc::ServerWriter<berth::runtime::v1::Envelope>* writer) override;

 private:
  EventBus& bus_;
};

}  // namespace berth::runtimed
