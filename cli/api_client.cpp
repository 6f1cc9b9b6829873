#include "cli/api_client.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/build_info.h"
#include "common/status.h"

namespace berth::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

namespace {

std::string Str(absl::string_view s) { return std::string(s.data(), s.size()); }

// One connection: its own io_context and the socket as a stream descriptor.
struct Conn {
  asio::io_context ioc;
  asio::posix::stream_descriptor stream{ioc};
  beast::flat_buffer buffer;
};

template <class Fields>
std::map<std::string, std::string> LowerHeaders(const Fields& fields) {
  std::map<std::string, std::string> out;
  for (const auto& f : fields) {
    out[absl::AsciiStrToLower(
        Str(absl::string_view(f.name_string().data(), f.name_string().size())))] =
        std::string(f.value().data(), f.value().size());
  }
  return out;
}

http::verb Verb(std::string_view method) {
  http::verb v = http::string_to_verb(beast::string_view(method.data(), method.size()));
  return v == http::verb::unknown ? http::verb::get : v;
}

absl::Status TransportError(const beast::error_code& ec, std::string_view what) {
  return absl::UnavailableError(std::string("error during connect: ") + std::string(what) + ": " +
                                ec.message());
}

// The whole response on conn (headers only for a HEAD); a non-2xx/3xx status
// is the daemon's error.
absl::StatusOr<ApiResponse> ReadResponse(Conn& conn, bool head) {
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  if (head) parser.skip(true);
  beast::error_code ec;
  http::read(conn.stream, conn.buffer, parser, ec);
  if (ec) return TransportError(ec, "reading the response");
  ApiResponse resp;
  resp.status = static_cast<int>(parser.get().result_int());
  resp.headers = LowerHeaders(parser.get());
  resp.body = std::move(parser.get().body());
  if (resp.status < 200 || resp.status >= 400) return DaemonError(resp);
  return resp;
}

class PendingImpl : public PendingResponse {
 public:
  explicit PendingImpl(std::unique_ptr<Conn> conn) : conn_(std::move(conn)) {}

  bool WaitReadable(int timeout_ms) override {
    pollfd p{conn_->stream.native_handle(), POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) > 0;
  }

  absl::StatusOr<ApiResponse> Get() override { return ReadResponse(*conn_, false); }

 private:
  std::unique_ptr<Conn> conn_;
};

}  // namespace

std::string EncodeQuery(const Query& query) {
  std::string out;
  static const char kHex[] = "0123456789ABCDEF";
  for (const auto& [k, v] : query) {
    if (!out.empty()) out += '&';
    auto enc = [&](const std::string& s) {
      for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
          out += static_cast<char>(c);
        } else {
          out += '%';
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        }
      }
    };
    enc(k);
    out += '=';
    enc(v);
  }
  return out;
}

int CompareApiVersions(std::string_view a, std::string_view b) {
  std::vector<std::string> pa = absl::StrSplit(absl::string_view(a.data(), a.size()), '.');
  std::vector<std::string> pb = absl::StrSplit(absl::string_view(b.data(), b.size()), '.');
  for (size_t i = 0; i < std::max(pa.size(), pb.size()); ++i) {
    int x = 0, y = 0;
    if (i < pa.size() && !absl::SimpleAtoi(pa[i], &x)) x = 0;
    if (i < pb.size() && !absl::SimpleAtoi(pb[i], &y)) y = 0;
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

std::string DaemonErrorMessage(const ApiResponse& resp) {
  auto j = OrderedJson::parse(resp.body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("message") && j["message"].is_string()) {
    return j["message"].get<std::string>();
  }
  std::string body = Str(absl::StripAsciiWhitespace(resp.body));
  if (body.empty()) return "page not found";
  return body;
}

absl::Status DaemonError(const ApiResponse& resp) {
  std::string msg = "Error response from daemon: " + DaemonErrorMessage(resp);
  switch (resp.status) {
    case 400:
      return absl::InvalidArgumentError(msg);
    case 401:
      return absl::UnauthenticatedError(msg);
    case 403:
      return absl::PermissionDeniedError(msg);
    case 404:
      return absl::NotFoundError(msg);
    case 409:
      return absl::AlreadyExistsError(msg);
    case 501:
      return absl::UnimplementedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

absl::StatusOr<ApiClient> ApiClient::Create(std::string host) {
  ApiClient c;
  c.host_ = host;
  if (absl::StartsWith(host, "unix://")) {
    c.unix_path_ = host.substr(7);
    if (c.unix_path_.empty())
      return absl::InvalidArgumentError("unable to parse docker host `" + host + "`");
    return c;
  }
  std::string rest = host;
  if (absl::StartsWith(rest, "tcp://"))
    rest = rest.substr(6);
  else if (absl::StartsWith(rest, "http://"))
    rest = rest.substr(7);
  else if (rest.find("://") != std::string::npos) {
    return absl::InvalidArgumentError("unable to parse docker host `" + host + "`");
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  auto colon = rest.rfind(':');
  if (colon == std::string::npos) {
    c.tcp_host_ = rest;
    c.tcp_port_ = "2375";
  } else {
    c.tcp_host_ = rest.substr(0, colon);
    c.tcp_port_ = rest.substr(colon + 1);
  }
  if (c.tcp_host_.size() > 1 && c.tcp_host_.front() == '[' && c.tcp_host_.back() == ']') {
    c.tcp_host_ = c.tcp_host_.substr(1, c.tcp_host_.size() - 2);
  }
  if (c.tcp_host_.empty()) c.tcp_host_ = "127.0.0.1";
  return c;
}

absl::Status ApiClient::ConnectError(int err) const {
  if (err == EACCES || err == EPERM) {
    return absl::PermissionDeniedError(
        "Got permission denied while trying to connect to the berth daemon socket at " + host_ +
        ": " + std::strerror(err));
  }
  return absl::UnavailableError("Cannot connect to the berth daemon at " + host_ +
                                ". Is the berth daemon running?");
}

absl::StatusOr<UniqueFd> ApiClient::Dial() const {
  if (!unix_path_.empty()) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return ConnectError(errno);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (unix_path_.size() >= sizeof(addr.sun_path)) {
      return absl::InvalidArgumentError("socket path too long: " + unix_path_);
    }
    std::memcpy(addr.sun_path, unix_path_.c_str(), unix_path_.size() + 1);
    if (::connect(fd.Get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return ConnectError(errno);
    }
    return fd;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(tcp_host_.c_str(), tcp_port_.c_str(), &hints, &res); rc != 0) {
    return absl::UnavailableError("error during connect: " + std::string(gai_strerror(rc)));
  }
  int last = ECONNREFUSED;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd) {
      last = errno;
      continue;
    }
    if (::connect(fd.Get(), ai->ai_addr, ai->ai_addrlen) == 0) {
      ::freeaddrinfo(res);
      return fd;
    }
    last = errno;
  }
  ::freeaddrinfo(res);
  return ConnectError(last);
}

std::string ApiClient::Target(std::string_view path, const Query& query) const {
  std::string t;
  if (path != "/_ping" || !query.empty()) t = "/v" + version_;
  t += path;
  if (!query.empty()) t += "?" + EncodeQuery(query);
  return t;
}

namespace {

template <class Body>
void SetCommonHeaders(http::request<Body>& req) {
  req.set(http::field::host, "api.moby.localhost");
  req.set(http::field::user_agent, "berth/" + Str(Version()));
}

absl::StatusOr<std::unique_ptr<Conn>> Open(absl::StatusOr<UniqueFd> fd) {
  if (!fd.ok()) return fd.status();
  auto conn = std::make_unique<Conn>();
  conn->stream.assign(fd->Release());
  return conn;
}

absl::Status WriteRequest(Conn& conn, std::string_view method, const std::string& target,
                          const std::optional<std::string>& body,
                          const std::map<std::string, std::string>& headers) {
  http::request<http::string_body> req{Verb(method), target, 11};
  SetCommonHeaders(req);
  for (const auto& [k, v] : headers) req.set(k, v);
  if (body.has_value()) {
    if (headers.find("Content-Type") == headers.end()) {
      req.set(http::field::content_type, "application/json");
    }
    req.body() = *body;
  }
  if (body.has_value() || method == "POST" || method == "PUT") req.prepare_payload();
  beast::error_code ec;
  http::write(conn.stream, req, ec);
  if (ec) return TransportError(ec, "writing the request");
  return absl::OkStatus();
}

}  // namespace

absl::Status ApiClient::Negotiate() {
  auto conn = Open(Dial());
  if (!conn.ok()) return conn.status();
  http::request<http::empty_body> req{http::verb::head, "/_ping", 11};
  SetCommonHeaders(req);
  beast::error_code ec;
  http::write((*conn)->stream, req, ec);
  if (ec) return ConnectError(ECONNREFUSED);
  http::response_parser<http::empty_body> parser;
  parser.skip(true);
  http::read((*conn)->stream, (*conn)->buffer, parser, ec);
  if (ec) return ConnectError(ECONNREFUSED);
  auto headers = LowerHeaders(parser.get());
  auto it = headers.find("api-version");
  if (it != headers.end() && !it->second.empty() &&
      CompareApiVersions(it->second, kMaxApiVersion) < 0) {
    version_ = it->second;
  }
  if (auto os = headers.find("ostype"); os != headers.end()) server_os_ = os->second;
  return absl::OkStatus();
}

absl::StatusOr<ApiResponse> ApiClient::Do(std::string_view method, std::string_view path,
                                          const Query& query,
                                          const std::optional<std::string>& body,
                                          const std::map<std::string, std::string>& headers) {
  auto conn = Open(Dial());
  if (!conn.ok()) return conn.status();
  BERTH_RETURN_IF_ERROR(WriteRequest(**conn, method, Target(path, query), body, headers));
  return ReadResponse(**conn, method == "HEAD");
}

absl::StatusOr<OrderedJson> ApiClient::DoJson(std::string_view method, std::string_view path,
                                              const Query& query,
                                              const std::optional<OrderedJson>& body) {
  std::optional<std::string> text;
  if (body.has_value()) text = body->dump();
  auto resp = Do(method, path, query, text);
  if (!resp.ok()) return resp.status();
  if (resp->body.empty()) return OrderedJson();
  auto j = OrderedJson::parse(resp->body, nullptr, false);
  if (j.is_discarded()) {
    return absl::InternalError("invalid JSON from the daemon for " + std::string(path));
  }
  return j;
}

absl::Status ApiClient::Stream(std::string_view method, std::string_view path, const Query& query,
                               const std::optional<std::string>& body,
                               const std::function<absl::Status(std::string_view)>& on_data,
                               const std::map<std::string, std::string>& headers) {
  auto conn = Open(Dial());
  if (!conn.ok()) return conn.status();
  BERTH_RETURN_IF_ERROR(WriteRequest(**conn, method, Target(path, query), body, headers));
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  beast::error_code ec;
  http::read_header((*conn)->stream, (*conn)->buffer, parser, ec);
  if (ec) return TransportError(ec, "reading the response");
  int status = static_cast<int>(parser.get().result_int());
  std::string error_body;
  char buf[16384];
  while (!parser.is_done()) {
    parser.get().body().data = buf;
    parser.get().body().size = sizeof(buf);
    // read_some: hand over what has arrived (logs -f, events) without
    // waiting for the buffer to fill.
    http::read_some((*conn)->stream, (*conn)->buffer, parser, ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      if (ec == http::error::end_of_stream || ec == asio::error::eof) break;
      return TransportError(ec, "reading the response");
    }
    size_t n = sizeof(buf) - parser.get().body().size;
    if (n == 0) continue;
    if (status < 200 || status >= 400) {
      error_body.append(buf, n);
    } else {
      BERTH_RETURN_IF_ERROR(on_data(std::string_view(buf, n)));
    }
  }
  if (status < 200 || status >= 400) {
    ApiResponse resp;
    resp.status = status;
    resp.body = std::move(error_body);
    return DaemonError(resp);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PendingResponse>> ApiClient::Send(std::string_view method,
                                                                 std::string_view path,
                                                                 const Query& query) {
  auto conn = Open(Dial());
  if (!conn.ok()) return conn.status();
  BERTH_RETURN_IF_ERROR(WriteRequest(**conn, method, Target(path, query), std::nullopt, {}));
  return std::unique_ptr<PendingResponse>(new PendingImpl(std::move(*conn)));
}

absl::StatusOr<Hijacked> ApiClient::Hijack(std::string_view path, const Query& query,
                                           const std::optional<std::string>& body) {
  auto conn = Open(Dial());
  if (!conn.ok()) return conn.status();
  BERTH_RETURN_IF_ERROR(WriteRequest(**conn, "POST", Target(path, query), body,
                                     {{"Connection", "Upgrade"}, {"Upgrade", "tcp"}}));
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  beast::error_code ec;
  http::read_header((*conn)->stream, (*conn)->buffer, parser, ec);
  if (ec) return TransportError(ec, "reading the attach response");
  int status = static_cast<int>(parser.get().result_int());
  if (status != 101 && (status < 200 || status >= 400)) {
    http::read((*conn)->stream, (*conn)->buffer, parser, ec);
    ApiResponse resp;
    resp.status = status;
    resp.body = std::move(parser.get().body());
    return DaemonError(resp);
  }
  Hijacked h;
  auto data = (*conn)->buffer.data();
  h.pending.assign(static_cast<const char*>(data.data()), data.size());
  h.fd.Reset((*conn)->stream.release());
  return h;
}

}  // namespace berth::cli
