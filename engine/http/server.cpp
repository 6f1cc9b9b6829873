#include "engine/http/server.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status.h"
#include "common/unix_socket.h"
#include "engine/http/strings.h"

namespace berth::engine::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using GenericSocket = asio::generic::stream_protocol::socket;
using GenericAcceptor = asio::basic_socket_acceptor<asio::generic::stream_protocol>;

namespace {

std::string ToString(beast::string_view s) { return std::string(s.data(), s.size()); }

// RFC 7231 IMF-fixdate, as Go's server writes in Date (locale-independent).
std::string HttpDate() {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t now = std::time(nullptr);
  std::tm t{};
  ::gmtime_r(&now, &t);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                        kDays[t.tm_wday % 7], t.tm_mday, kMonths[t.tm_mon % 12], t.tm_year + 1900,
                        t.tm_hour, t.tm_min, t.tm_sec);
  return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

bool StatusHasNoBody(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

// "/v1.41/containers/json" -> version "1.41", rest "/containers/json" (moby's versionMatcher
// "/v{version:[0-9.]+}" in front of every route). False when there is no such prefix.
bool SplitVersionPrefix(std::string_view path, std::string* version, std::string* rest) {
  if (path.size() < 3 || path[0] != '/' || path[1] != 'v') return false;
  size_t i = 2;
  while (i < path.size() && ((path[i] >= '0' && path[i] <= '9') || path[i] == '.')) ++i;
  if (i == 2 || i >= path.size() || path[i] != '/') return false;
  *version = std::string(path.substr(2, i - 2));
  *rest = std::string(path.substr(i));
  return true;
}

// State shared by the server and its (detached) connection threads.
struct Shared {
  Shared(Router r, ServerOptions o) : router(std::move(r)), opts(std::move(o)) {}
  const Router router;
  const ServerOptions opts;
  // Connection sockets belong to this context; it is never run (all their I/O is sync).
  asio::io_context conn_ioc;

  std::mutex mu;
  std::condition_variable cv;
  std::set<int> live_fds;  // connections the server still owns
  size_t threads = 0;      // connection threads running
  bool stopping = false;
};

class Connection final : public ResponseWriter {
 public:
  Connection(std::shared_ptr<Shared> shared, int fd, int family)
      : shared_(std::move(shared)), sock_(shared_->conn_ioc), fd_(fd) {
    beast::error_code ec;
    sock_.assign(asio::generic::stream_protocol(family, 0), fd, ec);
    if (ec) {
      LogError("http: cannot use connection fd {}: {}", fd, ec.message());
      std::lock_guard lock(shared_->mu);
      shared_->live_fds.erase(fd);
      ::close(fd);
      fd_ = -1;
    }
  }
  ~Connection() override { Close(); }

  void Serve();

  void SetHeader(std::string name, std::string value) override;
  void Send(int status, std::string_view content_type, std::string body) override;
  void BeginStream(int status, std::string_view content_type) override;
  bool Write(std::string_view data) override;
  void End() override;
  absl::StatusOr<Hijacked> Hijack(std::string_view content_type) override;
  bool ClientGone() override;
  bool Sent() const override { return state_ != State::kIdle; }

 private:
  enum class State { kIdle, kSent, kStreaming, kEnded, kHijacked };

  // Answers a request that could not be read; the connection closes after it.
  void ReplyReadError(const beast::error_code& ec);
  // Runs one request; false when the connection must not be reused.
  bool Dispatch(bhttp::request<bhttp::string_body>&& req);
  bhttp::response_header<> MakeHeader(int status, std::string_view content_type);
  template <typename Buffers>
  bool WriteAll(const Buffers& buffers);
  // Half-closes and discards what the client still sends (briefly), so that it reads our
  // error reply instead of a reset; then closes.
  void LingeringClose();
  void Close();

  std::shared_ptr<Shared> shared_;
  GenericSocket sock_;
  int fd_;
  beast::flat_buffer buf_;

  // Per request.
  State state_ = State::kIdle;
  bool head_ = false;
  bool keep_alive_ = true;
  bool chunked_ = true;
  bool upgrade_requested_ = false;
  bool broken_ = false;
  std::vector<std::pair<std::string, std::string>> headers_;
};

void Connection::Close() {
  if (fd_ < 0) return;
  std::lock_guard lock(shared_->mu);
  shared_->live_fds.erase(fd_);
  beast::error_code ec;
  sock_.close(ec);
  fd_ = -1;
}

void Connection::LingeringClose() {
  if (fd_ < 0) return;
  ::shutdown(fd_, SHUT_WR);
  char sink[16384];
  size_t total = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (total < (size_t{4} << 20)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    ssize_t n = ::recv(fd_, sink, sizeof sink, MSG_DONTWAIT);
    if (n <= 0) break;
    total += static_cast<size_t>(n);
  }
  Close();
}

void Connection::Serve() {
  while (fd_ >= 0) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(
        static_cast<std::uint32_t>(std::min<size_t>(shared_->opts.max_header_bytes, UINT32_MAX)));
    parser.body_limit(shared_->opts.max_body_bytes);
    beast::error_code ec;
    bhttp::read_header(sock_, buf_, parser, ec);
    if (!ec && !parser.is_done()) {
      const auto& h = parser.get();
      auto expect = h.find(bhttp::field::expect);
      if (expect != h.end() && h.version() >= 11 &&
          EqualsIgnoreCase(ToString(expect->value()), "100-continue")) {
        static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (!WriteAll(asio::buffer(kContinue, sizeof kContinue - 1))) break;
      }
      bhttp::read(sock_, buf_, parser, ec);
    }
    if (ec) {
      ReplyReadError(ec);
      return;
    }
    bool again = Dispatch(parser.release());
    if (state_ == State::kHijacked) return;  // the handler owns the socket now
    if (!again) break;
  }
  Close();
}

void Connection::ReplyReadError(const beast::error_code& ec) {
  // Fresh per-request state for the error reply.
  state_ = State::kIdle;
  head_ = false;
  keep_alive_ = false;
  chunked_ = true;
  upgrade_requested_ = false;
  headers_.clear();
  if (ec == bhttp::error::body_limit) {
    SendError(413, absl::StrCat("request body too large (limit ", shared_->opts.max_body_bytes,
                                " bytes)"));
  } else if (ec == bhttp::error::header_limit) {
    SendError(431, "request header fields too large");
  } else if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
             ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
    SendError(400, absl::StrCat("malformed HTTP request: ", ec.message()));
  } else {
    // EOF between requests, a reset, or our own Shutdown: nothing to answer.
    Close();
    return;
  }
  LingeringClose();
}

bhttp::response_header<> Connection::MakeHeader(int status, std::string_view content_type) {
  bhttp::response_header<> res;
  res.version(11);
  res.result(static_cast<unsigned>(status >= 100 && status <= 999 ? status : 500));
  res.set("Api-Version", shared_->opts.max_api_version);
  for (const auto& [k, v] : shared_->opts.extra_headers) res.set(k, v);
  for (const auto& [k, v] : headers_) res.set(k, v);
  if (!content_type.empty()) res.set(bhttp::field::content_type, std::string(content_type));
  res.set(bhttp::field::date, HttpDate());
  return res;
}

template <typename Buffers>
bool Connection::WriteAll(const Buffers& buffers) {
  if (broken_ || fd_ < 0) return false;
  beast::error_code ec;
  asio::write(sock_, buffers, ec);
  if (ec) {
    broken_ = true;
    return false;
  }
  return true;
}

void Connection::SetHeader(std::string name, std::string value) {
  if (state_ != State::kIdle) {
    LogWarn("http: SetHeader({}) after the response started; ignored", name);
    return;
  }
  for (auto& h : headers_) {
    if (EqualsIgnoreCase(h.first, name)) {
      h.second = std::move(value);
      return;
    }
  }
  headers_.emplace_back(std::move(name), std::move(value));
}

void Connection::Send(int status, std::string_view content_type, std::string body) {
  if (state_ != State::kIdle) {
    LogWarn("http: Send({}) after the response started; ignored", status);
    return;
  }
  state_ = State::kSent;
  bool no_body = StatusHasNoBody(status);
  bhttp::response<bhttp::string_body> res{MakeHeader(status, content_type)};
  res.keep_alive(keep_alive_);
  if (!no_body) res.content_length(body.size());
  if (!head_ && !no_body) res.body() = std::move(body);
  bhttp::response_serializer<bhttp::string_body> sr{res};
  beast::error_code ec;
  if (head_ || no_body) {
    bhttp::write_header(sock_, sr, ec);
  } else {
    bhttp::write(sock_, sr, ec);
  }
  if (ec) broken_ = true;
}

void Connection::BeginStream(int status, std::string_view content_type) {
  if (state_ != State::kIdle) {
    LogWarn("http: BeginStream({}) after the response started; ignored", status);
    return;
  }
  state_ = State::kStreaming;
  bhttp::response<bhttp::empty_body> res{MakeHeader(status, content_type)};
  res.keep_alive(keep_alive_);
  if (chunked_) {
    res.chunked(true);
  } else {
    // HTTP/1.0 has no chunked encoding: the body ends when the connection does.
    keep_alive_ = false;
    res.keep_alive(false);
  }
  bhttp::response_serializer<bhttp::empty_body> sr{res};
  beast::error_code ec;
  bhttp::write_header(sock_, sr, ec);
  if (ec) broken_ = true;
}

bool Connection::Write(std::string_view data) {
  if (state_ != State::kStreaming || broken_) return false;
  if (head_ || data.empty()) return true;  // an empty chunk would end the body
  if (chunked_) return WriteAll(bhttp::make_chunk(asio::buffer(data.data(), data.size())));
  return WriteAll(asio::buffer(data.data(), data.size()));
}

void Connection::End() {
  if (state_ != State::kStreaming) return;
  state_ = State::kEnded;
  if (head_ || broken_ || !chunked_) return;
  WriteAll(bhttp::make_chunk_last());
}

absl::StatusOr<ResponseWriter::Hijacked> Connection::Hijack(std::string_view content_type) {
  if (state_ != State::kIdle) {
    return absl::FailedPreconditionError("cannot hijack: the response has already started");
  }
  std::string head;
  if (upgrade_requested_) {
    absl::StrAppend(&head, "HTTP/1.1 101 UPGRADED\r\nContent-Type: ", std::string(content_type),
                    "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n");
  } else {
    absl::StrAppend(&head, "HTTP/1.1 200 OK\r\nContent-Type: ", std::string(content_type), "\r\n");
  }
  // moby then writes the headers set so far (its middlewares': Api-Version, Server, ...).
  auto skip = [](std::string_view name) {
    return EqualsIgnoreCase(name, "Content-Type") || EqualsIgnoreCase(name, "Connection") ||
           EqualsIgnoreCase(name, "Upgrade") || EqualsIgnoreCase(name, "Content-Length") ||
           EqualsIgnoreCase(name, "Transfer-Encoding");
  };
  std::vector<std::pair<std::string, std::string>> all;
  all.emplace_back("Api-Version", shared_->opts.max_api_version);
  for (const auto& kv : shared_->opts.extra_headers) all.push_back(kv);
  for (const auto& kv : headers_) all.push_back(kv);
  for (const auto& [k, v] : all) {
    if (!skip(k)) absl::StrAppend(&head, k, ": ", v, "\r\n");
  }
  head += "\r\n";
  state_ = State::kSent;
  if (!WriteAll(asio::buffer(head))) {
    return absl::UnavailableError("cannot hijack: the client has gone");
  }

  Hijacked h;
  h.buffered = beast::buffers_to_string(buf_.data());
  buf_.consume(buf_.size());
  beast::error_code ec;
  {
    std::lock_guard lock(shared_->mu);
    shared_->live_fds.erase(fd_);
    int fd = sock_.release(ec);
    if (ec) {
      // Still ours: Close() below (via the destructor) closes it.
      shared_->live_fds.insert(fd_);
      broken_ = true;
      return absl::InternalError(absl::StrCat("cannot hijack: ", ec.message()));
    }
    h.fd.Reset(fd);
    fd_ = -1;
  }
  int flags = ::fcntl(h.fd.Get(), F_GETFL);
  if (flags >= 0 && (flags & O_NONBLOCK) != 0) ::fcntl(h.fd.Get(), F_SETFL, flags & ~O_NONBLOCK);
  state_ = State::kHijacked;
  return h;
}

bool Connection::ClientGone() {
  if (state_ == State::kHijacked || broken_ || fd_ < 0) return true;
  pollfd p{fd_, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if ((p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) return true;
  if ((p.revents & POLLIN) != 0) {
    char c;
    return ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
  }
  return false;
}

bool Connection::Dispatch(bhttp::request<bhttp::string_body>&& req) {
  state_ = State::kIdle;
  headers_.clear();
  broken_ = false;

  Request r;
  r.method = ToString(req.method_string());
  r.target = ToString(req.target());
  for (const auto& f : req) r.headers.emplace_back(ToString(f.name_string()), ToString(f.value()));
  r.body = std::move(req.body());

  head_ = r.method == "HEAD";
  chunked_ = req.version() >= 11;
  keep_alive_ = req.version() >= 11 && req.keep_alive();
  upgrade_requested_ = r.HasHeader("Upgrade");
  {
    std::lock_guard lock(shared_->mu);
    if (shared_->stopping) keep_alive_ = false;
  }

  // origin-form "/path?query"; absolute-form "http://host/path?query" is accepted too.
  std::string_view target = r.target;
  if (size_t scheme = target.find("://");
      scheme != std::string_view::npos && target.substr(0, 1) != "/") {
    size_t slash = target.find('/', scheme + 3);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  size_t qmark = target.find('?');
  std::string decoded;
  if (!DecodePath(target.substr(0, qmark), &decoded)) {
    SendError(400, absl::StrCat("invalid URL escape in ", r.target));
    return keep_alive_ && !broken_;
  }
  if (qmark != std::string_view::npos) r.query = ParseQuery(target.substr(qmark + 1));
  if (!SplitVersionPrefix(decoded, &r.api_version, &r.path)) r.path = std::move(decoded);

  LogDebug("http: {} {}", r.method, r.target);
  const ServerOptions& opts = shared_->opts;
  const Handler* handler = shared_->router.Find(r.method, r.path, &r.params);
  if (handler == nullptr) {
    SendError(404, "page not found");
  } else if (!r.api_version.empty() &&
             CompareApiVersions(r.api_version, opts.min_api_version) < 0) {
    SendError(400,
              absl::StrCat("client version ", r.api_version,
                           " is too old. Minimum supported API version is ", opts.min_api_version,
                           ", please upgrade your client to a newer version"));
  } else if (!r.api_version.empty() &&
             CompareApiVersions(r.api_version, opts.max_api_version) > 0) {
    SendError(400,
              absl::StrCat("client version ", r.api_version,
                           " is too new. Maximum supported API version is ", opts.max_api_version));
  } else {
    std::string error;
    try {
      (*handler)(r, *this);
    } catch (const std::exception& e) {
      error = e.what();
      if (error.empty()) error = "internal server error";
    } catch (...) {
      error = "internal server error";
    }
    if (state_ == State::kHijacked) return false;
    if (!error.empty()) {
      LogError("http: handler of {} {} failed: {}", r.method, r.target, error);
      if (state_ == State::kIdle) {
        headers_.clear();
        SendError(500, error);
      } else {
        // Mid-response: closing without the final chunk tells the client it failed.
        broken_ = true;
      }
    }
  }
  if (state_ == State::kIdle) Send(200, "", "");  // a handler that wrote nothing: 200, as Go
  if (state_ == State::kStreaming) End();
  return keep_alive_ && !broken_;
}

}  // namespace

struct Server::Impl {
  struct Listener {
    explicit Listener(asio::io_context& ioc) : acceptor(ioc), backoff(ioc) {}
    GenericAcceptor acceptor;
    asio::steady_timer backoff;
    int family = AF_UNSPEC;
    std::string unix_path;  // removed at the end of Run
    struct stat unix_stat {};
  };

  Impl(Router router, ServerOptions opts)
      : shared(std::make_shared<Shared>(std::move(router), std::move(opts))) {}

  absl::Status AddListener(UniqueFd fd, std::string unix_path);
  void DrainAccept(Listener* l);
  void WaitAccept(Listener* l);
  void StartConnection(int fd, int family);
  void CloseListeners();

  std::shared_ptr<Shared> shared;
  asio::io_context ioc;  // accept loop, run by Run(); declared before the listeners
  std::mutex mu;
  std::vector<std::unique_ptr<Listener>> listeners;
};

absl::Status Server::Impl::AddListener(UniqueFd fd, std::string unix_path) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd.Get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return LastErrnoError("getsockname of the listening socket");
  }
  int cloexec = ::fcntl(fd.Get(), F_GETFD);
  if (cloexec >= 0) ::fcntl(fd.Get(), F_SETFD, cloexec | FD_CLOEXEC);

  auto l = std::make_unique<Listener>(ioc);
  l->family = addr.ss_family;
  l->unix_path = std::move(unix_path);
  if (!l->unix_path.empty()) ::stat(l->unix_path.c_str(), &l->unix_stat);
  beast::error_code ec;
  int raw = fd.Release();
  l->acceptor.assign(asio::generic::stream_protocol(l->family, 0), raw, ec);
  if (ec) {
    ::close(raw);
    return absl::InternalError(absl::StrCat("listen: ", ec.message()));
  }
  l->acceptor.non_blocking(true, ec);
  if (ec) return absl::InternalError(absl::StrCat("listen: non-blocking: ", ec.message()));
  Listener* p = l.get();
  {
    std::lock_guard lock(mu);
    listeners.push_back(std::move(l));
  }
  asio::post(ioc, [this, p] { DrainAccept(p); });
  return absl::OkStatus();
}

// Accepts until the listener would block, then waits for readiness. Runs on Run's thread
// only, so a connection arriving between the last EAGAIN and the wait being queued is still
// reported by the (edge-triggered) reactor afterwards.
void Server::Impl::DrainAccept(Listener* l) {
  for (;;) {
    int fd = ::accept4(l->acceptor.native_handle(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      StartConnection(fd, l->family);
      continue;
    }
    int err = errno;
    if (err == EINTR || err == ECONNABORTED) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      WaitAccept(l);
      return;
    }
    if (err == EBADF || err == EINVAL) return;  // closed
    // EMFILE, ENFILE, ENOBUFS, ...: try again shortly instead of spinning.
    LogError("http: accept: {}", std::strerror(err));
    l->backoff.expires_after(std::chrono::milliseconds(100));
    l->backoff.async_wait([this, l](const beast::error_code& ec) {
      if (!ec) DrainAccept(l);
    });
    return;
  }
}

void Server::Impl::WaitAccept(Listener* l) {
  l->acceptor.async_wait(asio::socket_base::wait_read, [this, l](const beast::error_code& ec) {
    if (!ec) DrainAccept(l);
  });
}

void Server::Impl::StartConnection(int fd, int family) {
  {
    std::lock_guard lock(shared->mu);
    if (shared->stopping) {
      ::close(fd);
      return;
    }
    shared->live_fds.insert(fd);
    ++shared->threads;
  }
  auto finished = [](const std::shared_ptr<Shared>& s) {
    std::lock_guard lock(s->mu);
    --s->threads;
    s->cv.notify_all();
  };
  try {
    std::thread([s = shared, fd, family, finished] {
      {
        Connection c(s, fd, family);
        c.Serve();
      }
      finished(s);
    }).detach();
  } catch (const std::exception& e) {
    LogError("http: cannot start a connection thread: {}", e.what());
    {
      std::lock_guard lock(shared->mu);
      shared->live_fds.erase(fd);
    }
    ::close(fd);
    finished(shared);
  }
}

void Server::Impl::CloseListeners() {
  std::lock_guard lock(mu);
  for (auto& l : listeners) {
    beast::error_code ec;
    l->backoff.cancel();
    l->acceptor.close(ec);
    if (!l->unix_path.empty()) {
      // Only our own socket: a newer daemon may already have replaced it.
      struct stat st {};
      if (::stat(l->unix_path.c_str(), &st) == 0 && st.st_ino == l->unix_stat.st_ino &&
          st.st_dev == l->unix_stat.st_dev) {
        ::unlink(l->unix_path.c_str());
      }
    }
  }
  listeners.clear();
}

Server::Server(Router router, ServerOptions opts)
    : impl_(std::make_unique<Impl>(std::move(router), std::move(opts))) {}

Server::~Server() {
  Shutdown();
  impl_->CloseListeners();
}

absl::Status Server::ListenUnix(const std::string& path, mode_t mode,
                                const std::string& group_name) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, ::berth::ListenUnix(path, SOMAXCONN, SOCK_NONBLOCK));
  if (::chmod(path.c_str(), mode) != 0) return LastErrnoError(absl::StrCat("chmod ", path));
  if (!group_name.empty()) {
    struct group g {};
    struct group* found = nullptr;
    std::vector<char> buf(16384);
    int err = ::getgrnam_r(group_name.c_str(), &g, buf.data(), buf.size(), &found);
    if (err == 0 && found != nullptr) {
      if (::chown(path.c_str(), static_cast<uid_t>(-1), found->gr_gid) != 0) {
        return LastErrnoError(absl::StrCat("chown ", path, " to group ", group_name));
      }
    } else {
      LogWarn("http: group {} not found; {} keeps its group", group_name, path);
    }
  }
  return impl_->AddListener(std::move(fd), path);
}

absl::Status Server::ListenTcp(const std::string& host_port) {
  std::string host, port;
  if (!host_port.empty() && host_port.front() == '[') {
    size_t close = host_port.find("]:");
    if (close == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("bad tcp address: ", host_port));
    }
    host = host_port.substr(1, close - 1);
    port = host_port.substr(close + 2);
  } else {
    size_t colon = host_port.rfind(':');
    if (colon == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad tcp address (want host:port): ", host_port));
    }
    host = host_port.substr(0, colon);
    port = host_port.substr(colon + 1);
  }
  if (host.empty()) host = "0.0.0.0";
  if (port.empty()) return absl::InvalidArgumentError(absl::StrCat("no port in ", host_port));

  asio::io_context tmp;
  beast::error_code ec;
  asio::ip::tcp::resolver resolver(tmp);
  auto results = resolver.resolve(host, port, asio::ip::tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("resolve ", host_port, ": ", ec ? ec.message() : "no address"));
  }
  asio::ip::tcp::endpoint ep = results.begin()->endpoint();
  asio::ip::tcp::acceptor acceptor(tmp);
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(SOMAXCONN, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("listen on ", host_port, ": ", ec.message()));
  UniqueFd fd(acceptor.release(ec));
  if (ec) return absl::InternalError(absl::StrCat("listen on ", host_port, ": ", ec.message()));
  return impl_->AddListener(std::move(fd), "");
}

absl::Status Server::Listen(UniqueFd listening_fd) {
  if (!listening_fd) return absl::InvalidArgumentError("no listening socket");
  return impl_->AddListener(std::move(listening_fd), "");
}

void Server::Run() {
  {
    auto work = asio::make_work_guard(impl_->ioc);
    impl_->ioc.run();
  }
  impl_->CloseListeners();
}

void Server::Shutdown() {
  impl_->ioc.stop();
  std::lock_guard lock(impl_->shared->mu);
  impl_->shared->stopping = true;
  // Idle connections read EOF and end; handlers see ClientGone() and can still answer.
  for (int fd : impl_->shared->live_fds) ::shutdown(fd, SHUT_RD);
}

bool Server::WaitForConnections(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->shared->mu);
  return impl_->shared->cv.wait_for(lock, timeout, [&] { return impl_->shared->threads == 0; });
}

size_t Server::ActiveConnections() const {
  std::lock_guard lock(impl_->shared->mu);
  return impl_->shared->threads;
}

}  // namespace berth::engine::http
