// engine/http's Server on a temp unix socket, driven by a Beast client and by raw writes.
#include <dirent.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "engine/http/server.h"

namespace http = berth::engine::http;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using berth::UniqueFd;
using namespace std::chrono_literals;

namespace {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/berth-http-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

// A one-shot flag a test and a handler wait on (with a timeout, so a bug fails, not hangs).
class Event {
 public:
  void Set() {
    std::lock_guard lock(mu_);
    set_ = true;
    cv_.notify_all();
  }
  bool Wait(std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return set_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

http::ServerOptions TestOptions() {
  http::ServerOptions o;
  o.extra_headers = {
      {"Ostype", "linux"}, {"Docker-Experimental", "false"}, {"Server", "Docker/0.1.0 (linux)"}};
  return o;
}

// A Server on <tmp>/api.sock, served by a thread until the fixture ends.
class TestServer {
 public:
  explicit TestServer(http::Router router, http::ServerOptions opts = TestOptions())
      : sock_(dir_.path + "/api.sock"),
        server_(std::make_unique<http::Server>(std::move(router), std::move(opts))) {
    auto st = server_->ListenUnix(sock_, 0660, "");
    REQUIRE(st.ok());
    thread_ = std::thread([this] { server_->Run(); });
  }
  ~TestServer() {
    Stop();
    server_->WaitForConnections(10s);
  }
  void Stop() {
    server_->Shutdown();
    if (thread_.joinable()) thread_.join();
  }
  const std::string& sock() const { return sock_; }
  http::Server& server() { return *server_; }

 private:
  TempDir dir_;
  std::string sock_;
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
};

// Raw connection; reads give up after 10 s.
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

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads into *buf until it contains needle; false on EOF/timeout first.
bool ReadUntil(int fd, std::string_view needle, std::string* buf) {
  while (buf->find(needle) == std::string::npos) {
    char chunk[4096];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf->append(chunk, static_cast<size_t>(n));
  }
  return true;
}

// Everything until EOF (or the 10 s timeout).
std::string ReadToEof(int fd, std::string buf = "") {
  for (;;) {
    char chunk[4096];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return buf;
    buf.append(chunk, static_cast<size_t>(n));
  }
}

// True when the peer closed (EOF) within the timeout.
bool SeesEof(int fd, std::chrono::milliseconds timeout = 5s) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
  char c;
  return ::recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

// A small synchronous Beast client on one keep-alive connection.
class Client {
 public:
  explicit Client(const std::string& path) : sock_(ioc_) {
    sock_.connect(asio::local::stream_protocol::endpoint(path));
  }
  bhttp::response<bhttp::string_body> Do(
      bhttp::verb method, const std::string& target, std::string body = "",
      std::vector<std::pair<std::string, std::string>> hdrs = {}) {
    bhttp::request<bhttp::string_body> req{method, target, 11};
    req.set(bhttp::field::host, "docker");
    req.set(bhttp::field::user_agent, "berth-test");
    for (auto& [k, v] : hdrs) req.set(k, v);
    if (!body.empty()) {
      req.set(bhttp::field::content_type, "application/json");
      req.body() = std::move(body);
    }
    req.prepare_payload();
    bhttp::write(sock_, req);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 << 20);
    if (method == bhttp::verb::head) parser.skip(true);
    bhttp::read(sock_, buf_, parser);
    return parser.release();
  }
  asio::local::stream_protocol::socket& socket() { return sock_; }

 private:
  asio::io_context ioc_;
  asio::local::stream_protocol::socket sock_;
  beast::flat_buffer buf_;
};

std::string Header(const bhttp::response<bhttp::string_body>& res, bhttp::field f) {
  auto it = res.find(f);
  return it == res.end() ? "" : std::string(it->value().data(), it->value().size());
}
std::string Header(const bhttp::response<bhttp::string_body>& res, const char* name) {
  auto it = res.find(name);
  return it == res.end() ? "" : std::string(it->value().data(), it->value().size());
}

int CountFds() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n - 1;  // the directory stream itself
}

int CountThreads() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

// Routes most tests share.
http::Router BasicRouter() {
  http::Router r;
  r.Add("GET", "/_ping", [](http::Request&, http::ResponseWriter& w) {
    w.SetHeader("Cache-Control", "no-cache, no-store, must-revalidate");
    w.Send(200, "text/plain; charset=utf-8", "OK");
  });
  r.Add("GET", "/containers/{id}/json", [](http::Request& req, http::ResponseWriter& w) {
    w.SendJson(200, {{"Id", req.params["id"]},
                     {"version", req.api_version},
                     {"path", req.path},
                     {"all", req.QueryBool("all")},
                     {"filters", req.Query("filters")}});
  });
  r.Add("GET", "/images/{name:.*}/json", [](http::Request& req, http::ResponseWriter& w) {
    w.SendJson(200, {{"name", req.params["name"]}});
  });
  r.Add("POST", "/echo", [](http::Request& req, http::ResponseWriter& w) {
    w.SetHeader("X-Method", req.method);
    w.Send(200, "application/octet-stream", req.body);
  });
  r.Add("POST", "/containers/{id}/start",
        [](http::Request&, http::ResponseWriter& w) { w.SendNoContent(); });
  r.Add("POST", "/silent", [](http::Request&, http::ResponseWriter&) {});
  r.Add("GET", "/boom",
        [](http::Request&, http::ResponseWriter&) { throw std::runtime_error("boom"); });
  return r;
}

}  // namespace

TEST_CASE("server: routing, captures and docker's headers", "[engine_http]") {
  TestServer ts(BasicRouter());
  Client c(ts.sock());

  auto res = c.Do(bhttp::verb::get, "/containers/abc/json?all=1&filters=%7B%7D");
  CHECK(res.result_int() == 200);
  CHECK(Header(res, bhttp::field::content_type) == "application/json");
  CHECK(Header(res, "Api-Version") == "1.47");
  CHECK(Header(res, "Ostype") == "linux");
  CHECK(Header(res, "Docker-Experimental") == "false");
  CHECK(Header(res, bhttp::field::server) == "Docker/0.1.0 (linux)");
  CHECK_FALSE(Header(res, bhttp::field::date).empty());
  REQUIRE(res.body().back() == '\n');
  auto j = nlohmann::json::parse(res.body());
  CHECK(j["Id"] == "abc");
  CHECK(j["version"] == "");
  CHECK(j["path"] == "/containers/abc/json");
  CHECK(j["all"] == true);
  CHECK(j["filters"] == "{}");

  // A name with slashes, a port and a tag, followed by the literal suffix.
  res = c.Do(bhttp::verb::get, "/v1.41/images/127.0.0.1:5000/lib/busybox:latest/json");
  CHECK(res.result_int() == 200);
  CHECK(nlohmann::json::parse(res.body())["name"] == "127.0.0.1:5000/lib/busybox:latest");
  res = c.Do(bhttp::verb::get, "/images/reg%3A5000%2Fx%2Fy/json");
  CHECK(nlohmann::json::parse(res.body())["name"] == "reg:5000/x/y");

  res = c.Do(bhttp::verb::get, "/nope");
  CHECK(res.result_int() == 404);
  CHECK(res.body() == "{\"message\":\"page not found\"}\n");
  CHECK(Header(res, "Api-Version") == "1.47");
  // Another method only: moby answers 404 too.
  res = c.Do(bhttp::verb::delete_, "/containers/abc/json");
  CHECK(res.result_int() == 404);
  CHECK(res.body() == "{\"message\":\"page not found\"}\n");

  res = c.Do(bhttp::verb::post, "/containers/abc/start");
  CHECK(res.result_int() == 204);
  CHECK(res.body().empty());
  CHECK(Header(res, bhttp::field::content_length).empty());

  res = c.Do(bhttp::verb::post, "/silent");
  CHECK(res.result_int() == 200);
  CHECK(Header(res, bhttp::field::content_length) == "0");
}

TEST_CASE("server: API version prefix and moby's version errors", "[engine_http]") {
  TestServer ts(BasicRouter());
  Client c(ts.sock());

  auto res = c.Do(bhttp::verb::get, "/v1.41/containers/x/json");
  CHECK(res.result_int() == 200);
  auto j = nlohmann::json::parse(res.body());
  CHECK(j["version"] == "1.41");
  CHECK(j["path"] == "/containers/x/json");
  res = c.Do(bhttp::verb::get, "/v1.47/containers/x/json");
  CHECK(res.result_int() == 200);

  res = c.Do(bhttp::verb::get, "/v1.12/containers/x/json");
  CHECK(res.result_int() == 400);
  CHECK(nlohmann::json::parse(res.body())["message"] ==
        "client version 1.12 is too old. Minimum supported API version is 1.41, please upgrade "
        "your client to a newer version");
  CHECK(Header(res, "Api-Version") == "1.47");

  res = c.Do(bhttp::verb::get, "/v1.99/_ping");
  CHECK(res.result_int() == 400);
  CHECK(nlohmann::json::parse(res.body())["message"] ==
        "client version 1.99 is too new. Maximum supported API version is 1.47");

  res = c.Do(bhttp::verb::get, "/vfoo/_ping");
  CHECK(res.result_int() == 404);
  CHECK(nlohmann::json::parse(res.body())["message"] == "page not found");
  res = c.Do(bhttp::verb::get, "/v1.41");
  CHECK(res.result_int() == 404);
}

TEST_CASE("server: HEAD /_ping sends headers only, keep-alive goes on", "[engine_http]") {
  TestServer ts(BasicRouter());
  UniqueFd fd = Dial(ts.sock());
  REQUIRE(fd);
  // HEAD then GET pipelined on one connection: the HEAD answer must carry no body bytes.
  REQUIRE(SendAll(fd.Get(),
                  "HEAD /_ping HTTP/1.1\r\nHost: docker\r\n\r\n"
                  "GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n"));
  std::string buf;
  REQUIRE(ReadUntil(fd.Get(), "\r\n\r\nOK", &buf));
  size_t first_end = buf.find("\r\n\r\n");
  std::string head = buf.substr(0, first_end);
  CHECK(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(head.find("Content-Length: 2") != std::string::npos);
  CHECK(head.find("Api-Version: 1.47") != std::string::npos);
  CHECK(head.find("Cache-Control: no-cache") != std::string::npos);
  // The next bytes are the GET's status line, not "OK".
  CHECK(buf.compare(first_end + 4, 17, "HTTP/1.1 200 OK\r\n") == 0);
  CHECK(buf.substr(buf.size() - 2) == "OK");

  // And with the Beast client.
  Client c(ts.sock());
  auto res = c.Do(bhttp::verb::head, "/_ping");
  CHECK(res.result_int() == 200);
  CHECK(res.body().empty());
  CHECK(c.Do(bhttp::verb::get, "/_ping").body() == "OK");
}

TEST_CASE("server: keep-alive, Connection: close and HTTP/1.0", "[engine_http]") {
  TestServer ts(BasicRouter());
  {
    Client c(ts.sock());
    for (int i = 0; i < 3; ++i) {
      auto res = c.Do(bhttp::verb::get, "/_ping");
      CHECK(res.result_int() == 200);
      CHECK(res.keep_alive());
    }
  }
  {
    UniqueFd fd = Dial(ts.sock());
    REQUIRE(SendAll(fd.Get(), "GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    std::string all = ReadToEof(fd.Get());
    CHECK(all.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(all.find("Connection: close\r\n") != std::string::npos);
    CHECK(all.substr(all.size() - 2) == "OK");
  }
  {
    UniqueFd fd = Dial(ts.sock());
    REQUIRE(SendAll(fd.Get(), "GET /_ping HTTP/1.0\r\n\r\n"));
    std::string all = ReadToEof(fd.Get());
    CHECK(all.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(all.substr(all.size() - 2) == "OK");
  }
}

TEST_CASE("server: chunked request body and Expect: 100-continue", "[engine_http]") {
  TestServer ts(BasicRouter());
  UniqueFd fd = Dial(ts.sock());
  REQUIRE(SendAll(fd.Get(),
                  "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                  "Content-Type: application/json\r\n\r\n"
                  "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  std::string buf;
  REQUIRE(ReadUntil(fd.Get(), "hello world", &buf));
  CHECK(buf.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(buf.find("Content-Length: 11\r\n") != std::string::npos);
  CHECK(buf.find("X-Method: POST\r\n") != std::string::npos);

  buf.clear();
  REQUIRE(SendAll(fd.Get(),
                  "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                  "Expect: 100-continue\r\n\r\n"));
  REQUIRE(ReadUntil(fd.Get(), "\r\n\r\n", &buf));
  CHECK(buf == "HTTP/1.1 100 Continue\r\n\r\n");
  buf.clear();
  REQUIRE(SendAll(fd.Get(), "abcde"));
  REQUIRE(ReadUntil(fd.Get(), "abcde", &buf));
  CHECK(buf.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
}

TEST_CASE("server: a streamed response arrives chunk by chunk", "[engine_http]") {
  Event first_read;
  std::atomic<bool> second_ok{false};
  std::atomic<bool> sent_after_begin{false};
  http::Router r;
  r.Add("POST", "/containers/{id}/wait", [&](http::Request&, http::ResponseWriter& w) {
    w.BeginStream(200, "application/json");
    sent_after_begin = w.Sent();
    w.Write("{\"first\":1}\n");
    // The client must see the headers and the first chunk while we are still running.
    if (!first_read.Wait()) return;
    second_ok = w.Write("{\"StatusCode\":0}\n");
  });
  TestServer ts(std::move(r));
  UniqueFd fd = Dial(ts.sock());
  REQUIRE(SendAll(fd.Get(), "POST /v1.41/containers/c/wait HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string buf;
  REQUIRE(ReadUntil(fd.Get(), "{\"first\":1}\n", &buf));
  CHECK(buf.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(buf.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(buf.find("Content-Type: application/json\r\n") != std::string::npos);
  CHECK(buf.find("Api-Version: 1.47\r\n") != std::string::npos);
  first_read.Set();
  REQUIRE(ReadUntil(fd.Get(), "\r\n0\r\n\r\n", &buf));
  CHECK(second_ok);
  CHECK(sent_after_begin);
  CHECK(buf.find("c\r\n{\"first\":1}\n\r\n11\r\n{\"StatusCode\":0}\n\r\n0\r\n\r\n") !=
        std::string::npos);

  // The connection is still usable after the stream ended.
  buf.clear();
  REQUIRE(SendAll(fd.Get(), "POST /containers/d/wait HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(ReadUntil(fd.Get(), "\r\n0\r\n\r\n", &buf));
  CHECK(buf.find("{\"StatusCode\":0}") != std::string::npos);
}

TEST_CASE("server: ClientGone and failing Writes after the client leaves", "[engine_http]") {
  Event started_long;
  Event started_stream;
  Event gone;
  Event write_failed;
  std::atomic<bool> gone_at_start{true};
  http::Router r = BasicRouter();
  r.Add("GET", "/long", [&](http::Request&, http::ResponseWriter& w) {
    gone_at_start = w.ClientGone();
    started_long.Set();
    for (int i = 0; i < 1000; ++i) {
      if (w.ClientGone()) {
        gone.Set();
        return;
      }
      std::this_thread::sleep_for(10ms);
    }
  });
  r.Add("GET", "/stream", [&](http::Request&, http::ResponseWriter& w) {
    w.BeginStream(200, "application/octet-stream");
    std::string chunk(1024, 'x');
    for (int i = 0; i < 100000; ++i) {
      if (!w.Write(chunk)) {
        write_failed.Set();
        return;
      }
      if (i == 0) started_stream.Set();
      std::this_thread::sleep_for(1ms);
    }
  });
  TestServer ts(std::move(r));
  {
    UniqueFd fd = Dial(ts.sock());
    REQUIRE(SendAll(fd.Get(), "GET /long HTTP/1.1\r\nHost: x\r\n\r\n"));
    REQUIRE(started_long.Wait());
  }  // closed
  CHECK(gone.Wait(5s));
  CHECK_FALSE(gone_at_start);

  {
    UniqueFd fd = Dial(ts.sock());
    REQUIRE(SendAll(fd.Get(), "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string buf;
    REQUIRE(ReadUntil(fd.Get(), "xxxx", &buf));
    REQUIRE(started_stream.Wait());
  }
  CHECK(write_failed.Wait(5s));

  // The server keeps serving.
  Client c(ts.sock());
  CHECK(c.Do(bhttp::verb::get, "/_ping").body() == "OK");
}

TEST_CASE("server: hijack with Upgrade: tcp answers 101 and hands over the socket",
          "[engine_http]") {
  std::atomic<bool> hijack_ok{false};
  std::atomic<bool> stream_param{false};
  std::atomic<bool> sent_after_hijack{false};
  std::string buffered_seen;
  Event done;
  http::Router r;
  r.Add("POST", "/containers/{id}/attach", [&](http::Request& req, http::ResponseWriter& w) {
    stream_param = req.QueryBool("stream");
    auto h = w.Hijack("application/vnd.docker.raw-stream");
    if (!h.ok()) {
      done.Set();
      return;
    }
    hijack_ok = true;
    sent_after_hijack = w.Sent();
    int fd = h->fd.Get();
    buffered_seen = h->buffered;
    // Echo: what was buffered first, then whatever arrives, until EOF.
    std::string out = "echo:" + h->buffered;
    SendAll(fd, out);
    char chunk[1024];
    for (;;) {
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n <= 0) break;
      SendAll(fd, std::string_view(chunk, static_cast<size_t>(n)));
    }
    done.Set();
  });  // h->fd closes here
  r.Add("GET", "/_ping",
        [](http::Request&, http::ResponseWriter& w) { w.Send(200, "text/plain", "OK"); });
  TestServer ts(std::move(r));

  UniqueFd fd = Dial(ts.sock());
  // stdin right after the request headers, in the same write.
  REQUIRE(SendAll(fd.Get(),
                  "POST /v1.41/containers/c1/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\n"
                  "Host: docker\r\nContent-Type: text/plain\r\nConnection: Upgrade\r\n"
                  "Upgrade: tcp\r\n\r\nearly-stdin|"));
  std::string buf;
  REQUIRE(ReadUntil(fd.Get(), "\r\n\r\n", &buf));
  CHECK(buf.rfind("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                  "Connection: Upgrade\r\nUpgrade: tcp\r\n",
                  0) == 0);
  CHECK(buf.find("Api-Version: 1.47\r\n") != std::string::npos);
  REQUIRE(ReadUntil(fd.Get(), "echo:early-stdin|", &buf));
  REQUIRE(SendAll(fd.Get(), "ping-pong"));
  REQUIRE(ReadUntil(fd.Get(), "ping-pong", &buf));
  // Half-close: the handler reads EOF, returns and its fd closes.
  ::shutdown(fd.Get(), SHUT_WR);
  CHECK(SeesEof(fd.Get()));
  REQUIRE(done.Wait());
  CHECK(hijack_ok);
  CHECK(buffered_seen == "early-stdin|");
  CHECK(stream_param);
  CHECK(sent_after_hijack);

  // The server goes on serving other connections.
  Client c(ts.sock());
  CHECK(c.Do(bhttp::verb::get, "/_ping").body() == "OK");
}

TEST_CASE("server: hijack without Upgrade answers 200", "[engine_http]") {
  Event done;
  std::string body_seen;
  http::Router r;
  r.Add("POST", "/exec/{id}/start", [&](http::Request& req, http::ResponseWriter& w) {
    body_seen = req.body;
    auto h = w.Hijack("application/vnd.docker.raw-stream");
    if (h.ok()) SendAll(h->fd.Get(), "output");
    done.Set();
  });
  TestServer ts(std::move(r));
  UniqueFd fd = Dial(ts.sock());
  REQUIRE(SendAll(fd.Get(),
                  "POST /exec/e1/start HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  "Content-Length: 27\r\n\r\n{\"Detach\":false,\"Tty\":true}"));
  std::string all = ReadToEof(fd.Get());
  CHECK(all.rfind("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n", 0) ==
        0);
  CHECK(all.find("Upgrade") == std::string::npos);
  CHECK(all.size() > 6);
  CHECK(all.substr(all.size() - 10) == "\r\n\r\noutput");
  REQUIRE(done.Wait());
  CHECK(body_seen == "{\"Detach\":false,\"Tty\":true}");
}

TEST_CASE("server: malformed requests get 400 and the connection closes", "[engine_http]") {
  TestServer ts(BasicRouter());
  for (const char* bad : {"this is not http\r\n\r\n", "GET /_ping HTTP/9.x\r\n\r\n",
                          "GET /_ping HTTP/1.1\r\nBad Header\r\n\r\n",
                          "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    INFO(bad);
    UniqueFd fd = Dial(ts.sock());
    REQUIRE(SendAll(fd.Get(), bad));
    std::string all = ReadToEof(fd.Get());
    CHECK(all.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
    CHECK(all.find("Connection: close\r\n") != std::string::npos);
    CHECK(all.find("{\"message\":\"malformed HTTP request: ") != std::string::npos);
  }
  // A bad %-escape in the path is a 400 too, but the connection stays.
  Client c(ts.sock());
  auto res = c.Do(bhttp::verb::get, "/containers/%zz/json");
  CHECK(res.result_int() == 400);
  CHECK(c.Do(bhttp::verb::get, "/_ping").body() == "OK");
}

TEST_CASE("server: a body over the limit gets 413 and the connection closes", "[engine_http]") {
  http::ServerOptions opts = TestOptions();
  opts.max_body_bytes = 1024;
  TestServer ts(BasicRouter(), opts);
  {
    UniqueFd fd = Dial(ts.sock());
    REQUIRE(SendAll(fd.Get(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n" +
                                  std::string(4096, 'a')));
    std::string all = ReadToEof(fd.Get());
    CHECK(all.rfind("HTTP/1.1 413 Payload Too Large\r\n", 0) == 0);
    CHECK(all.find("{\"message\":\"request body too large (limit 1024 bytes)\"}\n") !=
          std::string::npos);
  }
  {
    UniqueFd fd = Dial(ts.sock());
    std::string req = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 4; ++i) req += "200\r\n" + std::string(512, 'b') + "\r\n";
    req += "0\r\n\r\n";
    REQUIRE(SendAll(fd.Get(), req));
    std::string all = ReadToEof(fd.Get());
    CHECK(all.rfind("HTTP/1.1 413 Payload Too Large\r\n", 0) == 0);
  }
  // Within the limit is fine.
  Client c(ts.sock());
  auto res = c.Do(bhttp::verb::post, "/echo", std::string(1024, 'c'));
  CHECK(res.result_int() == 200);
  CHECK(res.body().size() == 1024);
}

TEST_CASE("server: a throwing handler gets 500 and the server keeps serving", "[engine_http]") {
  TestServer ts(BasicRouter());
  Client c(ts.sock());
  auto res = c.Do(bhttp::verb::get, "/boom");
  CHECK(res.result_int() == 500);
  CHECK(res.body() == "{\"message\":\"boom\"}\n");
  CHECK(c.Do(bhttp::verb::get, "/_ping").body() == "OK");  // same connection
  Client c2(ts.sock());
  CHECK(c2.Do(bhttp::verb::get, "/_ping").body() == "OK");
}

TEST_CASE("server: Shutdown returns promptly with connections open", "[engine_http]") {
  Event in_handler;
  std::atomic<bool> handler_saw_gone{false};
  http::Router r = BasicRouter();
  r.Add("GET", "/block", [&](http::Request&, http::ResponseWriter& w) {
    in_handler.Set();
    for (int i = 0; i < 1000 && !w.ClientGone(); ++i) std::this_thread::sleep_for(10ms);
    handler_saw_gone = w.ClientGone();
    w.SendJson(200, {{"ok", true}});
  });
  TestServer ts(std::move(r));
  Client idle(ts.sock());
  CHECK(idle.Do(bhttp::verb::get, "/_ping").body() == "OK");  // now idle, kept alive
  UniqueFd busy = Dial(ts.sock());
  REQUIRE(SendAll(busy.Get(), "GET /block HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(in_handler.Wait());

  auto t0 = std::chrono::steady_clock::now();
  ts.Stop();
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  // The socket file is gone, new connections fail.
  CHECK_FALSE(std::filesystem::exists(ts.sock()));
  CHECK_FALSE(Dial(ts.sock()));
  // The idle connection ends; the in-flight handler finishes its answer.
  CHECK(SeesEof(idle.socket().native_handle()));
  std::string all = ReadToEof(busy.Get());
  CHECK(all.find("{\"ok\":true}") != std::string::npos);
  CHECK(handler_saw_gone);
  CHECK(ts.server().WaitForConnections(5s));
}

TEST_CASE("server: many sequential and concurrent connections leak nothing", "[engine_http]") {
  const int threads_at_start = CountThreads();
  TestServer ts(BasicRouter());
  // Warm up (first-use allocations, the connection io_context's reactor fds).
  { CHECK(Client(ts.sock()).Do(bhttp::verb::get, "/_ping").body() == "OK"); }
  REQUIRE(ts.server().WaitForConnections(5s));
  // Plus the server's Run thread; a finished connection thread may still be on its way out.
  const int threads_before = threads_at_start + 1;
  for (int i = 0; i < 200 && CountThreads() > threads_before; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE(CountThreads() <= threads_before);
  int fds_before = CountFds();

  for (int i = 0; i < 200; ++i) {
    Client c(ts.sock());
    auto res = c.Do(bhttp::verb::get, "/containers/c" + std::to_string(i) + "/json");
    REQUIRE(res.result_int() == 200);
  }
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  Event go;
  for (int i = 0; i < 50; ++i) {
    clients.emplace_back([&, i] {
      Client c(ts.sock());
      go.Wait();
      for (int k = 0; k < 3; ++k) {
        auto res = c.Do(bhttp::verb::get, "/containers/t" + std::to_string(i) + "/json");
        if (res.result_int() == 200 &&
            nlohmann::json::parse(res.body())["Id"] == "t" + std::to_string(i)) {
          ++ok;
        }
      }
    });
  }
  // All 50 connections open at once.
  for (int i = 0; i < 500 && ts.server().ActiveConnections() < 50; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  CHECK(ts.server().ActiveConnections() == 50);
  go.Set();
  for (auto& t : clients) t.join();
  CHECK(ok == 150);

  REQUIRE(ts.server().WaitForConnections(5s));
  // Detached threads may need a moment to be reaped after their last step.
  for (int i = 0; i < 200 && CountThreads() > threads_before; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  CHECK(CountFds() == fds_before);
  CHECK(CountThreads() <= threads_before);
}
