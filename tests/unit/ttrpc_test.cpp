#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "common/event_loop.h"
#include "common/fd_util.h"
#include "common/ttrpc/client.h"
#include "common/ttrpc/frame.h"
#include "common/ttrpc/server.h"
#include "ttrpc/ttrpc.pb.h"

using berth::EventLoop;
using berth::UniqueFd;
namespace tt = berth::ttrpc;

namespace {

constexpr char kService[] = "berth.test.v1.Echo";

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/berth-ttrpc-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

UniqueFd Listen(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::bind(fd.Get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return UniqueFd();
  if (::listen(fd.Get(), 16) != 0) return UniqueFd();
  return fd;
}

// A raw connection for hand-written frames; reads give up after 10 s.
UniqueFd Dial(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd.Get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return UniqueFd();
  timeval tv{10, 0};
  ::setsockopt(fd.Get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// True when the server closed fd: reads end in EOF (or a reset), not a timeout.
bool ClosedByPeer(int fd) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

std::string RequestBytes(const std::string& service, const std::string& method,
                         const std::string& payload) {
  ::ttrpc::Request request;
  request.set_service(service);
  request.set_method(method);
  request.set_payload(payload);
  return request.SerializeAsString();
}

// A server on a unix socket in a temporary directory, with an echo method.
struct Fixture {
  Fixture() : server(loop) {
    socket_path = dir.path + "/ttrpc.sock";
    server.Register(kService, "Echo",
                    [](const std::string& payload, tt::Responder r) { r.Reply(payload); });
    server.OnDisconnect([this] { ++disconnects; });
    UniqueFd listener = Listen(socket_path);
    listening = listener.Valid() && server.Serve(std::move(listener)).ok();
  }

  // Runs the loop here while `client` runs on a thread; returns once the client
  // is done and `until` holds (checked every 10 ms), false after 20 s.
  bool Run(
      std::function<void()> client, std::function<bool()> until = [] { return true; }) {
    std::atomic<bool> done{false};
    UniqueFd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    itimerspec spec{};
    spec.it_interval.tv_nsec = 10'000'000;
    spec.it_value.tv_nsec = 10'000'000;
    ::timerfd_settime(timer.Get(), 0, &spec, nullptr);
    int ticks = 0;
    bool timed_out = false;
    bool added = loop.Add(timer.Get(), EPOLLIN,
                          [&](uint32_t) {
                            uint64_t expirations;
                            (void)!::read(timer.Get(), &expirations, sizeof expirations);
                            if (done && until()) loop.Stop();
                            if (++ticks > 2000) {
                              timed_out = true;
                              loop.Stop();
                            }
                          })
                     .ok();
    std::thread thread([&] {
      client();
      done = true;
    });
    bool ran = added && loop.Run().ok();
    loop.Remove(timer.Get());
    thread.join();  // clients time out on their own
    return ran && !timed_out;
  }

  TempDir dir;
  std::string socket_path;
  EventLoop loop;
  tt::Server server;
  bool listening = false;
  int disconnects = 0;
};

absl::StatusOr<std::string> CallOnce(const std::string& path, const std::string& method,
                                     const std::string& payload) {
  auto client = tt::Client::Connect(path);
  if (!client.ok()) return client.status();
  return client->Call(kService, method, payload, absl::Seconds(10));
}

}  // namespace

TEST_CASE("ttrpc frame header is 10 big-endian bytes and round-trips") {
  tt::FrameHeader header{0x01020304, 0x0a0b0c0d, 2, 5};
  std::string bytes = tt::EncodeHeader(header);
  CHECK(bytes == std::string("\x01\x02\x03\x04\x0a\x0b\x0c\x0d\x02\x05", 10));
  char raw[tt::kHeaderSize];
  std::memcpy(raw, bytes.data(), sizeof raw);
  tt::FrameHeader back = tt::DecodeHeader(raw);
  CHECK(back.length == 0x01020304);
  CHECK(back.stream_id == 0x0a0b0c0d);
  CHECK(back.type == 2);
  CHECK(back.flags == 5);

  auto frame = tt::EncodeFrame(7, tt::kMessageTypeRequest, "hey");
  REQUIRE(frame.ok());
  CHECK(*frame == std::string("\0\0\0\x03\0\0\0\x07\x01\0hey", 13));
}

TEST_CASE("ttrpc FrameReader fed byte by byte yields each frame once complete") {
  std::string wire = *tt::EncodeFrame(1, tt::kMessageTypeRequest, "first") +
                     *tt::EncodeFrame(3, tt::kMessageTypeResponse, "") +
                     *tt::EncodeFrame(5, tt::kMessageTypeRequest, std::string(300, 'z'));
  tt::FrameReader reader;
  std::vector<tt::Frame> frames;
  for (size_t i = 0; i < wire.size(); ++i) {
    reader.Append(&wire[i], 1);
    auto next = reader.Next();
    REQUIRE(next.ok());
    if (next->has_value()) frames.push_back(std::move(**next));
    auto none = reader.Next();  // at most one frame completes per byte
    REQUIRE(none.ok());
    CHECK_FALSE(none->has_value());
  }
  CHECK(reader.Pending() == 0);
  REQUIRE(frames.size() == 3);
  CHECK(frames[0].header.stream_id == 1);
  CHECK(frames[0].header.type == tt::kMessageTypeRequest);
  CHECK(frames[0].payload == "first");
  CHECK(frames[1].header.stream_id == 3);
  CHECK(frames[1].header.type == tt::kMessageTypeResponse);
  CHECK(frames[1].payload.empty());
  CHECK(frames[2].header.length == 300);
  CHECK(frames[2].payload == std::string(300, 'z'));
}

TEST_CASE("ttrpc FrameReader splits two frames from one Append and keeps a partial third") {
  std::string third = *tt::EncodeFrame(5, 1, "third");
  std::string wire =
      *tt::EncodeFrame(1, 1, "one") + *tt::EncodeFrame(3, 1, "two") + third.substr(0, 12);
  tt::FrameReader reader;
  reader.Append(wire.data(), wire.size());
  auto a = reader.Next();
  REQUIRE(a.ok());
  REQUIRE(a->has_value());
  CHECK((*a)->payload == "one");
  auto b = reader.Next();
  REQUIRE(b.ok());
  REQUIRE(b->has_value());
  CHECK((*b)->payload == "two");
  auto c = reader.Next();
  REQUIRE(c.ok());
  CHECK_FALSE(c->has_value());
  CHECK(reader.Pending() == 12);
  reader.Append(third.data() + 12, third.size() - 12);
  auto d = reader.Next();
  REQUIRE(d.ok());
  REQUIRE(d->has_value());
  CHECK((*d)->header.stream_id == 5);
  CHECK((*d)->payload == "third");
}

TEST_CASE("ttrpc refuses frames over the size limit") {
  tt::FrameHeader header{tt::kMaxMessageSize + 1, 1, 1, 0};
  std::string bytes = tt::EncodeHeader(header);
  tt::FrameReader reader;
  reader.Append(bytes.data(), bytes.size());
  auto next = reader.Next();
  REQUIRE_FALSE(next.ok());
  CHECK(next.status().code() == absl::StatusCode::kResourceExhausted);

  // Exactly at the limit is fine; one byte more is refused when encoding.
  CHECK(tt::EncodeFrame(1, 1, std::string(tt::kMaxMessageSize, 'a')).ok());
  auto big = tt::EncodeFrame(1, 1, std::string(tt::kMaxMessageSize + 1, 'a'));
  REQUIRE_FALSE(big.ok());
  CHECK(big.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("ttrpc ReadFrame distinguishes a clean EOF from one inside a frame") {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  UniqueFd a(sv[0]), b(sv[1]);
  REQUIRE(tt::WriteFrame(a.Get(), 9, tt::kMessageTypeResponse, "payload").ok());
  std::string partial = tt::EncodeFrame(11, 2, "0123456789").value().substr(0, 14);
  REQUIRE(berth::WriteAll(a.Get(), partial).ok());
  a.Reset();
  auto frame = tt::ReadFrame(b.Get());
  REQUIRE(frame.ok());
  CHECK(frame->header.stream_id == 9);
  CHECK(frame->payload == "payload");
  auto cut = tt::ReadFrame(b.Get());
  CHECK(cut.status().code() == absl::StatusCode::kDataLoss);
  auto eof = tt::ReadFrame(b.Get());
  CHECK(eof.status().code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("ttrpc round-trips a 3 MiB message through server and client") {
  Fixture f;
  REQUIRE(f.listening);
  std::string big(3 << 20, '\0');
  std::mt19937 rng(42);
  for (char& c : big) c = static_cast<char>(rng());
  absl::StatusOr<std::string> reply = absl::UnknownError("not called");
  absl::StatusOr<std::string> second = absl::UnknownError("not called");
  REQUIRE(f.Run(
      [&] {
        auto client = tt::Client::Connect("unix://" + f.socket_path);
        if (!client.ok()) {
          reply = client.status();
          return;
        }
        reply = client->Call(kService, "Echo", big);
        second = client->Call(kService, "Echo", "small");  // same connection afterwards
      },
      [&] { return f.disconnects == 1; }));
  REQUIRE(reply.ok());
  CHECK(reply->size() == big.size());
  CHECK(*reply == big);
  REQUIRE(second.ok());
  CHECK(*second == "small");
  CHECK(f.server.ConnectionCount() == 0);
}

TEST_CASE("ttrpc server closes a connection whose frame is cut short and serves others") {
  Fixture f;
  REQUIRE(f.listening);
  bool raw_closed = false;
  absl::StatusOr<std::string> reply = absl::UnknownError("not called");
  REQUIRE(f.Run(
      [&] {
        UniqueFd raw = Dial(f.socket_path);
        if (!raw.Valid()) return;
        tt::FrameHeader header{100, 1, tt::kMessageTypeRequest, 0};
        std::string bytes = tt::EncodeHeader(header) + std::string(10, 'x');
        if (!berth::WriteAll(raw.Get(), bytes).ok()) return;
        ::shutdown(raw.Get(), SHUT_WR);
        raw_closed = ClosedByPeer(raw.Get());
        reply = CallOnce(f.socket_path, "Echo", "after");
      },
      [&] { return f.disconnects == 2; }));
  CHECK(raw_closed);
  REQUIRE(reply.ok());
  CHECK(*reply == "after");
  CHECK(f.server.ConnectionCount() == 0);
}

TEST_CASE("ttrpc answers an unknown method with Unimplemented") {
  Fixture f;
  REQUIRE(f.listening);
  absl::StatusOr<std::string> unknown_method = absl::UnknownError("not called");
  absl::StatusOr<std::string> unknown_service = absl::UnknownError("not called");
  absl::StatusOr<std::string> then = absl::UnknownError("not called");
  REQUIRE(f.Run([&] {
    auto client = tt::Client::Connect(f.socket_path);
    if (!client.ok()) return;
    unknown_method = client->Call(kService, "Nope", "x");
    unknown_service = client->Call("no.such.Service", "Echo", "x");
    then = client->Call(kService, "Echo", "still open");
  }));
  CHECK(unknown_method.status().code() == absl::StatusCode::kUnimplemented);
  CHECK(absl::StrContains(unknown_method.status().message(), "Nope"));
  CHECK(unknown_service.status().code() == absl::StatusCode::kUnimplemented);
  CHECK(absl::StrContains(unknown_service.status().message(), "no.such.Service"));
  REQUIRE(then.ok());
  CHECK(*then == "still open");
}

TEST_CASE("ttrpc closes a connection that sends garbage and keeps serving") {
  Fixture f;
  REQUIRE(f.listening);
  std::string random(4096, '\0');
  std::mt19937 rng(7);
  for (char& c : random) c = static_cast<char>(rng());
  std::string bad_type = tt::EncodeFrame(1, 7, RequestBytes(kService, "Echo", "x")).value();
  std::string bad_request = tt::EncodeFrame(1, tt::kMessageTypeRequest, "\xff\xff\xff").value();
  std::string oversized = tt::EncodeHeader({tt::kMaxMessageSize + 1, 1, 1, 0});
  std::vector<std::string> garbage = {random, bad_type, bad_request, oversized};
  std::vector<bool> closed(garbage.size(), false);
  absl::StatusOr<std::string> reply = absl::UnknownError("not called");
  REQUIRE(f.Run(
      [&] {
        for (size_t i = 0; i < garbage.size(); ++i) {
          UniqueFd raw = Dial(f.socket_path);
          if (!raw.Valid()) return;
          // The server may hang up mid-write: send errors are expected.
          (void)!::send(raw.Get(), garbage[i].data(), garbage[i].size(), MSG_NOSIGNAL);
          closed[i] = ClosedByPeer(raw.Get());
        }
        reply = CallOnce(f.socket_path, "Echo", "fine");
      },
      [&] { return f.disconnects == 5; }));
  for (size_t i = 0; i < garbage.size(); ++i) {
    INFO("garbage #" << i);
    CHECK(closed[i]);
  }
  REQUIRE(reply.ok());
  CHECK(*reply == "fine");
  CHECK(f.server.ConnectionCount() == 0);
}

TEST_CASE("ttrpc answers requests on one connection out of order, by stream id") {
  Fixture f;
  REQUIRE(f.listening);
  std::optional<tt::Responder> held;
  f.server.Register(kService, "Slow", [&](const std::string&, tt::Responder r) {
    held.emplace(std::move(r));  // answered later, by Fast
  });
  f.server.Register(kService, "Fast", [&](const std::string& payload, tt::Responder r) {
    r.Reply("fast:" + payload);
    if (held) held->Reply("slow answered");
  });
  std::vector<absl::StatusOr<tt::Frame>> frames;
  REQUIRE(f.Run([&] {
    UniqueFd raw = Dial(f.socket_path);
    if (!raw.Valid()) return;
    std::string both =
        tt::EncodeFrame(1, tt::kMessageTypeRequest, RequestBytes(kService, "Slow", "s")).value() +
        tt::EncodeFrame(3, tt::kMessageTypeRequest, RequestBytes(kService, "Fast", "f")).value();
    if (!berth::WriteAll(raw.Get(), both).ok()) return;  // back to back, one write
    frames.push_back(tt::ReadFrame(raw.Get()));
    frames.push_back(tt::ReadFrame(raw.Get()));
  }));
  REQUIRE(frames.size() == 2);
  std::map<uint32_t, std::string> by_stream;
  for (auto& frame : frames) {
    REQUIRE(frame.ok());
    CHECK(frame->header.type == tt::kMessageTypeResponse);
    ::ttrpc::Response response;
    REQUIRE(response.ParseFromString(frame->payload));
    CHECK(response.status().code() == 0);
    by_stream[frame->header.stream_id] = response.payload();
  }
  CHECK(frames[0]->header.stream_id == 3);  // the second request was answered first
  CHECK(by_stream[1] == "slow answered");
  CHECK(by_stream[3] == "fast:f");
}

TEST_CASE("ttrpc passes a handler's error code and message to the client") {
  Fixture f;
  REQUIRE(f.listening);
  f.server.Register(kService, "Fail", [](const std::string&, tt::Responder r) {
    r.Fail(absl::NotFoundError("container \"web\" not found"));
  });
  absl::StatusOr<std::string> reply = absl::UnknownError("not called");
  REQUIRE(f.Run([&] { reply = CallOnce(f.socket_path, "Fail", ""); }));
  CHECK(reply.status().code() == absl::StatusCode::kNotFound);
  CHECK(reply.status().message() == "container \"web\" not found");
}

TEST_CASE("ttrpc answers Internal when a handler drops its Responder") {
  Fixture f;
  REQUIRE(f.listening);
  f.server.Register(kService, "Drop", [](const std::string&, tt::Responder) {});
  f.server.Register(kService, "MoveOver", [](const std::string&, tt::Responder r) {
    tt::Responder other = std::move(r);
    other.Reply("moved");  // the moved-from one must not answer too
  });
  absl::StatusOr<std::string> dropped = absl::UnknownError("not called");
  std::vector<absl::StatusOr<tt::Frame>> frames;
  REQUIRE(f.Run([&] {
    dropped = CallOnce(f.socket_path, "Drop", "");
    UniqueFd raw = Dial(f.socket_path);
    if (!raw.Valid()) return;
    (void)tt::WriteFrame(raw.Get(), 1, 1, RequestBytes(kService, "MoveOver", ""));
    (void)tt::WriteFrame(raw.Get(), 3, 1, RequestBytes(kService, "Echo", "next"));
    frames.push_back(tt::ReadFrame(raw.Get()));
    frames.push_back(tt::ReadFrame(raw.Get()));
  }));
  CHECK(dropped.status().code() == absl::StatusCode::kInternal);
  CHECK(absl::StrContains(dropped.status().message(), "dropped"));
  // Exactly one answer for stream 1, then stream 3's.
  REQUIRE(frames.size() == 2);
  REQUIRE(frames[0].ok());
  REQUIRE(frames[1].ok());
  CHECK(frames[0]->header.stream_id == 1);
  CHECK(frames[1]->header.stream_id == 3);
}

TEST_CASE("ttrpc client times out waiting for an answer that never comes") {
  Fixture f;
  REQUIRE(f.listening);
  std::vector<tt::Responder> held;
  f.server.Register(kService, "Hang",
                    [&](const std::string&, tt::Responder r) { held.push_back(std::move(r)); });
  // Answers the held request late (to a client no longer waiting), then itself.
  f.server.Register(kService, "Late", [&](const std::string& payload, tt::Responder r) {
    for (auto& h : held) h.Reply("late");
    r.Reply(payload);
  });
  absl::StatusOr<std::string> hung = absl::UnknownError("not called");
  absl::StatusOr<std::string> after = absl::UnknownError("not called");
  absl::Duration took;
  REQUIRE(f.Run([&] {
    auto client = tt::Client::Connect(f.socket_path);
    if (!client.ok()) return;
    absl::Time start = absl::Now();
    hung = client->Call(kService, "Hang", "", absl::Milliseconds(200));
    took = absl::Now() - start;
    // The late answer to stream 1 arrives first and is skipped.
    after = client->Call(kService, "Late", "on time");
  }));
  CHECK(hung.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(took >= absl::Milliseconds(200));
  CHECK(took < absl::Seconds(5));
  REQUIRE(after.ok());
  CHECK(*after == "on time");
}

TEST_CASE("ttrpc client uses odd stream ids and skips responses for other ones") {
  TempDir dir;
  std::string path = dir.path + "/fake.sock";
  UniqueFd listener = Listen(path);
  REQUIRE(listener.Valid());
  absl::Status server_status = absl::UnknownError("not run");
  ::ttrpc::Request seen;
  std::vector<uint32_t> stream_ids;
  std::thread fake([&] {
    UniqueFd conn(::accept4(listener.Get(), nullptr, nullptr, SOCK_CLOEXEC));
    for (int call = 0; call < 2; ++call) {
      auto request = tt::ReadFrame(conn.Get());
      if (!request.ok()) {
        server_status = request.status();
        return;
      }
      seen.ParseFromString(request->payload);
      uint32_t id = request->header.stream_id;
      stream_ids.push_back(id);
      ::ttrpc::Response other, mine;
      other.set_payload("not yours");
      mine.set_payload("yours " + seen.payload());
      // First an answer for another stream, then ours.
      server_status = tt::WriteFrame(conn.Get(), id + 2, 2, other.SerializeAsString());
      if (!server_status.ok()) return;
      server_status = tt::WriteFrame(conn.Get(), id, 2, mine.SerializeAsString());
      if (!server_status.ok()) return;
    }
  });
  auto client = tt::Client::Connect(path);
  absl::StatusOr<std::string> first = absl::UnknownError("not connected");
  absl::StatusOr<std::string> second = absl::UnknownError("not connected");
  if (client.ok()) {
    first = client->Call(kService, "Echo", "a", absl::Seconds(5));
    second = client->Call(kService, "Echo", "b", absl::Seconds(5));
  }
  bool connected = client.ok();
  // On failure, unblock the fake server (in accept or read) before joining.
  ::shutdown(listener.Get(), SHUT_RDWR);
  client = absl::CancelledError("closed");
  fake.join();
  REQUIRE(connected);
  CHECK(server_status.ok());
  CHECK(seen.service() == kService);
  CHECK(seen.method() == "Echo");
  CHECK(seen.timeout_nano() == 5'000'000'000);
  CHECK(stream_ids == std::vector<uint32_t>{1, 3});
  REQUIRE(first.ok());
  CHECK(*first == "yours a");
  REQUIRE(second.ok());
  CHECK(*second == "yours b");
}

TEST_CASE("ttrpc client reports a missing socket and a closed connection") {
  auto missing = tt::Client::Connect("unix:///nonexistent-berth/ttrpc.sock");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(missing.status().message(), "/nonexistent-berth/ttrpc.sock"));

  TempDir dir;
  std::string path = dir.path + "/hangup.sock";
  UniqueFd listener = Listen(path);
  REQUIRE(listener.Valid());
  std::thread hangup([&] {
    UniqueFd conn(::accept4(listener.Get(), nullptr, nullptr, SOCK_CLOEXEC));
    (void)tt::ReadFrame(conn.Get());
  });
  auto client = tt::Client::Connect(path);
  absl::StatusOr<std::string> reply = absl::UnknownError("not connected");
  if (client.ok()) reply = client->Call(kService, "Echo", "hi", absl::Seconds(5));
  ::shutdown(listener.Get(), SHUT_RDWR);  // unblocks accept if connect failed
  hangup.join();
  CHECK(reply.status().code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("ttrpc server removes its fds from the loop when destroyed") {
  TempDir dir;
  EventLoop loop;
  REQUIRE(loop.ok());
  UniqueFd listener = Listen(dir.path + "/gone.sock");
  REQUIRE(listener.Valid());
  int listener_fd = listener.Get();
  UniqueFd raw;
  int connection_fd = -1;
  {
    tt::Server server(loop);
    REQUIRE(server.Serve(std::move(listener)).ok());
    CHECK(loop.Watching(listener_fd));
    raw = Dial(dir.path + "/gone.sock");
    REQUIRE(raw.Valid());
    // Accept it: run the loop until the connection is registered.
    UniqueFd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    itimerspec spec{};
    spec.it_interval.tv_nsec = 5'000'000;
    spec.it_value.tv_nsec = 5'000'000;
    ::timerfd_settime(timer.Get(), 0, &spec, nullptr);
    int ticks = 0;
    REQUIRE(loop.Add(timer.Get(), EPOLLIN,
                     [&](uint32_t) {
                       uint64_t n;
                       (void)!::read(timer.Get(), &n, sizeof n);
                       if (server.ConnectionCount() == 1 || ++ticks > 1000) loop.Stop();
                     })
                .ok());
    REQUIRE(loop.Run().ok());
    loop.Remove(timer.Get());
    REQUIRE(server.ConnectionCount() == 1);
    for (int fd = 0; fd < 1024; ++fd) {
      if (fd != listener_fd && fd != raw.Get() && loop.Watching(fd)) connection_fd = fd;
    }
    CHECK(connection_fd >= 0);
  }
  CHECK_FALSE(loop.Watching(listener_fd));
  CHECK_FALSE(loop.Watching(connection_fd));
  CHECK(ClosedByPeer(raw.Get()));  // and closed the connection
}
