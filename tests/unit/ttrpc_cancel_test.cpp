// ttrpc::Client::Call with a cancel check: what lets a cancelled gRPC
// Tasks.Wait stop waiting on its shim.
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common/event_loop.h"
#include "common/ttrpc/client.h"
#include "common/ttrpc/server.h"

namespace tt = berth::ttrpc;
using berth::UniqueFd;

namespace {

constexpr char kService[] = "berth.test.v1.Cancel";

// A ttrpc server on its own thread: "Echo" answers, "Hang" never does.
struct HangingServer {
  HangingServer() : server(loop) {
    char tmpl[] = "/tmp/berth-ttrpc-cancel-XXXXXX";
    dir = ::mkdtemp(tmpl);
    path = dir + "/ttrpc.sock";
    server.Register(kService, "Echo",
                    [](const std::string& payload, tt::Responder r) { r.Reply(payload); });
    server.Register(kService, "Hang", [this](const std::string&, tt::Responder r) {
      hung.push_back(std::move(r));
      ++requests;
    });
    server.OnDisconnect([this] { ++disconnects; });
    UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::bind(listener.Get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener.Get(), 16) == 0);
    REQUIRE(server.Serve(std::move(listener)).ok());
    stop = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    REQUIRE(loop.Add(stop.Get(), EPOLLIN, [this](uint32_t) { loop.Stop(); }).ok());
    thread = std::thread([this] { (void)loop.Run(); });
  }
  ~HangingServer() {
    uint64_t one = 1;
    (void)!::write(stop.Get(), &one, sizeof one);
    thread.join();
    loop.Remove(stop.Get());
    hung.clear();
    std::filesystem::remove_all(dir);
  }

  std::string dir, path;
  berth::EventLoop loop;
  tt::Server server;
  UniqueFd stop;
  std::vector<tt::Responder> hung;  // touched on the loop thread only
  std::atomic<int> requests{0};
  std::atomic<int> disconnects{0};
  std::thread thread;
};

template <typename Pred>
bool Eventually(Pred pred) {
  for (int i = 0; i < 200; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

}  // namespace

TEST_CASE("ttrpc: a cancelled call ends within its check interval and closes the connection",
          "[ttrpc]") {
  HangingServer s;
  auto client = tt::Client::Connect(s.path);
  REQUIRE(client.ok());
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
  });
  auto start = std::chrono::steady_clock::now();
  auto result =
      client->Call(kService, "Hang", "x", absl::InfiniteDuration(), [&] { return cancel.load(); });
  auto took = std::chrono::steady_clock::now() - start;
  canceller.join();
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kCancelled);
  CHECK(took >= std::chrono::milliseconds(300));
  CHECK(took < std::chrono::milliseconds(800));
  CHECK(s.requests == 1);
  // The server sees the caller go.
  CHECK(Eventually([&] { return s.disconnects == 1; }));
  // The connection is gone; the client says so.
  auto again = client->Call(kService, "Echo", "x", absl::Seconds(5));
  CHECK(again.status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("ttrpc: a call cancelled before it starts sends nothing", "[ttrpc]") {
  HangingServer s;
  auto client = tt::Client::Connect(s.path);
  REQUIRE(client.ok());
  auto result = client->Call(kService, "Hang", "x", absl::InfiniteDuration(), [] { return true; });
  CHECK(result.status().code() == absl::StatusCode::kCancelled);
  CHECK(Eventually([&] { return s.disconnects == 1; }));
  CHECK(s.requests == 0);
}

TEST_CASE("ttrpc: a cancel check that stays false changes nothing", "[ttrpc]") {
  HangingServer s;
  auto client = tt::Client::Connect(s.path);
  REQUIRE(client.ok());
  int asked = 0;
  auto echoed = client->Call(
      kService, "Echo", "hello", absl::Seconds(5), [&] { return ++asked < 0; },
      absl::Milliseconds(10));
  REQUIRE(echoed.ok());
  CHECK(*echoed == "hello");
  CHECK(asked >= 1);
  // The deadline still applies alongside the check, and the client stays usable.
  auto start = std::chrono::steady_clock::now();
  auto hung = client->Call(
      kService, "Hang", "x", absl::Milliseconds(300), [] { return false; }, absl::Milliseconds(50));
  CHECK(hung.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  auto after = client->Call(kService, "Echo", "again", absl::Seconds(5), [] { return false; });
  REQUIRE(after.ok());
  CHECK(*after == "again");
  // An empty std::function is no check at all: the old four-argument call.
  auto plain = client->Call(kService, "Echo", "plain", absl::Seconds(5), std::function<bool()>());
  REQUIRE(plain.ok());
  CHECK(*plain == "plain");
}
