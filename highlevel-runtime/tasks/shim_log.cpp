#include "highlevel-runtime/tasks/shim_log.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status.h"

namespace berth::runtimed {
namespace {

constexpr uint64_t kWakeTag = 0;
// A longer run without a newline is forwarded in pieces of this size.
constexpr size_t kMaxLine = 16 * 1024;

struct Token {
  absl::string_view key, raw;  // raw: the value as written, quotes included
  std::string value;
};

std::string Unquote(absl::string_view quoted) {
  auto parsed =
      nlohmann::json::parse(quoted.begin(), quoted.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_string()) return parsed.get<std::string>();
  return std::string(quoted.substr(1, quoted.size() - 2));  // a Go escape JSON lacks
}

// logrus' text format: key=value pairs, values bare or double-quoted.
bool TokenizeLogrus(absl::string_view line, std::vector<Token>* tokens) {
  size_t i = 0;
  while (i < line.size()) {
    if (line[i] == ' ') {
      ++i;
      continue;
    }
    size_t eq = line.find('=', i);
    if (eq == absl::string_view::npos || eq == i) return false;
    Token token;
    token.key = line.substr(i, eq - i);
    if (token.key.find_first_of(" \"") != absl::string_view::npos) return false;
    i = eq + 1;
    if (i < line.size() && line[i] == '"') {
      size_t j = i + 1;
      while (j < line.size() && line[j] != '"') j += line[j] == '\\' ? 2 : 1;
      if (j >= line.size()) return false;
      token.raw = line.substr(i, j + 1 - i);
      token.value = Unquote(token.raw);
      i = j + 1;
      if (i < line.size() && line[i] != ' ') return false;
    } else {
      size_t j = line.find(' ', i);
      if (j == absl::string_view::npos) j = line.size();
      token.raw = line.substr(i, j - i);
      token.value = std::string(token.raw);
      i = j;
    }
    tokens->push_back(std::move(token));
  }
  return true;
}

LogLevel LevelOf(absl::string_view name) {
  auto level = ParseLogLevel(name);
  return level.ok() ? *level : LogLevel::kInfo;
}

}  // namespace

ShimLogLine ParseShimLogLine(absl::string_view line) {
  line = absl::StripTrailingAsciiWhitespace(line);
  ShimLogLine out;
  if (absl::StartsWith(line, "{")) {
    auto json =
        nlohmann::json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    if (json.is_object() && json.contains("msg") && json["msg"].is_string()) {
      out.message = json["msg"].get<std::string>();
      if (json.contains("level") && json["level"].is_string()) {
        out.level = LevelOf(json["level"].get<std::string>());
      }
      for (const auto& [key, value] : json.items()) {
        if (key == "msg" || key == "level" || key == "time") continue;
        absl::StrAppend(&out.message, " ", key, "=",
                        value.is_string() ? value.get<std::string>() : value.dump());
      }
      return out;
    }
  }
  std::vector<Token> tokens;
  if (TokenizeLogrus(line, &tokens)) {
    const Token* msg = nullptr;
    const Token* level = nullptr;
    for (const Token& t : tokens) {
      if (t.key == "msg") msg = &t;
      if (t.key == "level") level = &t;
    }
    if (msg != nullptr && level != nullptr) {
      out.level = LevelOf(level->value);
      out.message = msg->value;
      for (const Token& t : tokens) {
        if (&t == msg || &t == level || t.key == "time") continue;
        absl::StrAppend(&out.message, " ", t.key, "=", t.raw);
      }
      return out;
    }
  }
  out.message = std::string(line);
  return out;
}

absl::StatusOr<UniqueFd> CreateShimLogFifo(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return LastErrnoError(absl::StrCat("remove ", path));
  }
  if (::mkfifo(path.c_str(), 0600) != 0) return LastErrnoError(absl::StrCat("mkfifo ", path));
  return OpenShimLogFifo(path);
}

absl::StatusOr<UniqueFd> OpenShimLogFifo(const std::string& path) {
  // Read and write: opening never waits for a writer, and reading never sees
  // end-of-file when a shim closes or dies.
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return LastErrnoError(absl::StrCat("open ", path));
  struct stat st {};
  if (::fstat(fd.Get(), &st) != 0) return LastErrnoError(absl::StrCat("stat ", path));
  if (!S_ISFIFO(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " is not a fifo"));
  }
  return fd;
}

ShimLogForwarder::ShimLogForwarder()
    : epoll_(::epoll_create1(EPOLL_CLOEXEC)), wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!epoll_ || !wake_) {
    status_ = LastErrnoError("shim log forwarder: epoll/eventfd");
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeTag;
  if (::epoll_ctl(epoll_.Get(), EPOLL_CTL_ADD, wake_.Get(), &ev) != 0) {
    status_ = LastErrnoError("shim log forwarder: epoll_ctl");
    return;
  }
  thread_ = std::thread([this] { Run(); });
  ::pthread_setname_np(thread_.native_handle(), "shim-log");
}

ShimLogForwarder::~ShimLogForwarder() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)!::write(wake_.Get(), &one, sizeof one);
    thread_.join();
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [tag, source] : sources_) Drain(source, /*flush=*/true);
}

absl::Status ShimLogForwarder::Add(const std::string& ns, const std::string& id, UniqueFd fifo) {
  if (!status_.ok()) return status_;
  std::lock_guard<std::mutex> lock(mu_);
  if (auto old = tags_.find({ns, id}); old != tags_.end()) {
    RemoveLocked(sources_.find(old->second));
  }
  uint64_t tag = next_tag_++;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = tag;
  if (::epoll_ctl(epoll_.Get(), EPOLL_CTL_ADD, fifo.Get(), &ev) != 0) {
    return LastErrnoError(absl::StrCat("watch the shim log of ", ns, "/", id));
  }
  sources_[tag] = Source{ns, id, std::move(fifo), ""};
  tags_[{ns, id}] = tag;
  return absl::OkStatus();
}

void ShimLogForwarder::Remove(const std::string& ns, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto tag = tags_.find({ns, id});
  if (tag == tags_.end()) return;
  auto it = sources_.find(tag->second);
  Drain(it->second, /*flush=*/true);
  RemoveLocked(it);
}

void ShimLogForwarder::RemoveLocked(std::map<uint64_t, Source>::iterator it) {
  ::epoll_ctl(epoll_.Get(), EPOLL_CTL_DEL, it->second.fifo.Get(), nullptr);
  tags_.erase({it->second.ns, it->second.id});
  sources_.erase(it);  // closes the fifo
}

void ShimLogForwarder::Drain(Source& source, bool flush) {
  LogFields fields = {{"namespace", source.ns}, {"id", source.id}};
  auto forward = [&](absl::string_view line) {
    if (absl::StripAsciiWhitespace(line).empty()) return;
    ShimLogLine parsed = ParseShimLogLine(line);
    Log(parsed.level, parsed.message, fields);
  };
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(source.fifo.Get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EAGAIN: all read
    source.partial.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = source.partial.find('\n', start)) != std::string::npos; start = nl + 1) {
      forward(absl::string_view(source.partial).substr(start, nl - start));
    }
    source.partial.erase(0, start);
    while (source.partial.size() >= kMaxLine) {
      forward(absl::string_view(source.partial).substr(0, kMaxLine));
      source.partial.erase(0, kMaxLine);
    }
  }
  if (flush && !source.partial.empty()) {
    forward(source.partial);
    source.partial.clear();
  }
}

void ShimLogForwarder::Run() {
  epoll_event events[16];
  for (;;) {
    int n = ::epoll_wait(epoll_.Get(), events, 16, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      LogError("shim log forwarder: epoll_wait: {}", std::strerror(errno));
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == kWakeTag) return;
      auto it = sources_.find(events[i].data.u64);
      if (it != sources_.end()) Drain(it->second, /*flush=*/false);
    }
  }
}

}  // namespace berth::runtimed
