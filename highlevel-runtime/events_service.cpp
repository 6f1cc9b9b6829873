#include "highlevel-runtime/events_service.h"

namespace berth::runtimed {

grpc::Status EventsService::Subscribe(grpc::ServerContext* context,
                                      const berth::runtime::v1::SubscribeRequest* request,
                                      grpc::ServerWriter<berth::runtime::v1::Envelope>* writer) {
  auto subscription = bus_.Subscribe({request->topics().begin(), request->topics().end()},
                                     {request->namespaces().begin(), request->namespaces().end()});
  // The stream starts with its headers, so the client knows it is subscribed.
  writer->SendInitialMetadata();
  grpc::Status result = grpc::Status::OK;
  while (!context->IsCancelled()) {
    auto event = subscription->Next(absl::Milliseconds(200));
    if (event && !writer->Write(*event)) break;
    if (subscription->Closed()) {
      result = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                            "subscriber fell too far behind; subscribe again");
      break;
    }
  }
  bus_.Unsubscribe(subscription);
  return result;
}

}  // namespace berth::runtimed
