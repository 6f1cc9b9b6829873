// berthd's connection to berth-runtimed: one gRPC channel on its unix socket,
// a stub per service, and every call scoped to berthd's namespace ("berth",
// as dockerd uses "moby" in containerd).
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "berth/runtime/v1/containers.grpc.pb.h"
#include "berth/runtime/v1/content.grpc.pb.h"
#include "berth/runtime/v1/events.grpc.pb.h"
#include "berth/runtime/v1/images.grpc.pb.h"
#include "berth/runtime/v1/snapshots.grpc.pb.h"
#include "berth/runtime/v1/tasks.grpc.pb.h"
#include "berth/runtime/v1/version.grpc.pb.h"

namespace berth::engine {

namespace api = ::berth::runtime::v1;

inline constexpr const char* kRuntimedNamespace = "berth";

// A gRPC status as an absl::Status with the same code and message.
absl::Status FromGrpc(const grpc::Status& status);

class RuntimedClient {
 public:
  explicit RuntimedClient(const std::string& socket_path);

  // A context for one call in berthd's namespace; with a deadline when given.
  std::unique_ptr<grpc::ClientContext> Context(
      std::optional<std::chrono::milliseconds> timeout = std::chrono::seconds(60)) const;

  // Waits up to timeout for the channel to connect.
  absl::Status WaitReady(std::chrono::milliseconds timeout);

  api::Version::Stub& version() { return *version_; }
  api::Images::Stub& images() { return *images_; }
  api::Content::Stub& content() { return *content_; }
  api::Snapshots::Stub& snapshots() { return *snapshots_; }
  api::Containers::Stub& containers() { return *containers_; }
  api::Tasks::Stub& tasks() { return *tasks_; }
  api::Events::Stub& events() { return *events_; }

  const std::string& address() const { return address_; }

 private:
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<api::Version::Stub> version_;
  std::unique_ptr<api::Images::Stub> images_;
  std::unique_ptr<api::Content::Stub> content_;
  std::unique_ptr<api::Snapshots::Stub> snapshots_;
  std::unique_ptr<api::Containers::Stub> containers_;
  std::unique_ptr<api::Tasks::Stub> tasks_;
  std::unique_ptr<api::Events::Stub> events_;
};

}  // namespace berth::engine
