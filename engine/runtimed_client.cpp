#include "engine/runtimed_client.h"

#include "absl/strings/str_cat.h"

namespace berth::engine {

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

RuntimedClient::RuntimedClient(const std::string& socket_path)
    : address_(absl::StrCat("unix:", socket_path)) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  channel_ = grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args);
  version_ = api::Version::NewStub(channel_);
  images_ = api::Images::NewStub(channel_);
  content_ = api::Content::NewStub(channel_);
  snapshots_ = api::Snapshots::NewStub(channel_);
  containers_ = api::Containers::NewStub(channel_);
  tasks_ = api::Tasks::NewStub(channel_);
  events_ = api::Events::NewStub(channel_);
}

std::unique_ptr<grpc::ClientContext> RuntimedClient::Context(
    std::optional<std::chrono::milliseconds> timeout) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("berth-namespace", kRuntimedNamespace);
  if (timeout) context->set_deadline(std::chrono::system_clock::now() + *timeout);
  return context;
}

absl::Status RuntimedClient::WaitReady(std::chrono::milliseconds timeout) {
  if (channel_->WaitForConnected(std::chrono::system_clock::now() + timeout)) {
    return absl::OkStatus();
  }
  return absl::UnavailableError(
      absl::StrCat("cannot connect to berth-runtimed at ", address_.substr(5)));
}

}  // namespace berth::engine
