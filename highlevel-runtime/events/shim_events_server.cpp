#include "highlevel-runtime/events/shim_events_server.h"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "berth/wire/wkt.pb.h"
#include "common/log.h"
#include "common/status.h"
#include "common/unix_socket.h"
#include "containerd/events/forward.pb.h"

namespace berth::runtimed {

absl::StatusOr<std::unique_ptr<ShimEventsServer>> ShimEventsServer::Start(
    const std::string& socket_path, EventBus& bus) {
  std::unique_ptr<ShimEventsServer> s(new ShimEventsServer(socket_path));
  if (!s->loop_.ok()) return LastErrnoError("epoll_create1");
  BERTH_ASSIGN_OR_RETURN(UniqueFd listener, ListenUnix(socket_path, 64));
  s->server_.Register("containerd.services.events.ttrpc.v1.Events", "Forward",
                      [&bus](const std::string& payload, ttrpc::Responder responder) {
                        containerd::services::events::ttrpc::v1::ForwardRequest request;
                        if (!request.ParseFromString(payload)) {
                          responder.Fail(absl::InvalidArgumentError("Forward: malformed request"));
                          return;
                        }
                        const auto& in = request.envelope();
                        berth::runtime::v1::Envelope out;
                        out.mutable_timestamp()->set_seconds(in.timestamp().seconds());
                        out.mutable_timestamp()->set_nanos(in.timestamp().nanos());
                        out.set_namespace_(in.namespace_());
                        out.set_topic(in.topic());
                        out.set_type_url(in.event().type_url());
                        out.set_event(in.event().value());
                        bus.Publish(std::move(out));
                        responder.Reply(berth::wire::Empty().SerializeAsString());
                      });
  BERTH_RETURN_IF_ERROR(s->server_.Serve(std::move(listener)));
  s->wake_.Reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!s->wake_) return LastErrnoError("eventfd");
  ShimEventsServer* self = s.get();
  BERTH_RETURN_IF_ERROR(
      s->loop_.Add(s->wake_.Get(), EPOLLIN, [self](uint32_t) { self->loop_.Stop(); }));
  s->thread_ = std::thread([self] {
    absl::Status ran = self->loop_.Run();
    if (!ran.ok()) LogError("shim events server: {}", ran.message());
  });
  return s;
}

ShimEventsServer::~ShimEventsServer() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)!::write(wake_.Get(), &one, sizeof one);
    thread_.join();
  }
  ::unlink(path_.c_str());
}

}  // namespace berth::runtimed
