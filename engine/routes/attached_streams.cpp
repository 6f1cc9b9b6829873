#include "engine/routes/attached_streams.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "engine/routes/detach_keys.h"
#include "engine/routes/routes.h"

namespace berth::engine {
namespace {

// The client's input to the run's stdin until EOF, an error or the detach
// keys; true if it ends the attach (rather than only the run's stdin). A
// stdin that cannot be written (the run ended) only ends the input: the
// output loop sends what the run wrote last and ends with it.
bool CopyInput(const AttachedStreams& s) {
  // dockerd watches for the keys only with a tty: without one, stdin is data
  // (`cat file | docker exec -i c sh -c 'cat > f'` may hold any bytes).
  DetachDetector detector(s.tty ? s.detach_keys : std::string());
  bool detached = false;
  std::string data = detector.Feed(s.buffered, &detached);
  if (!data.empty() && !s.write_stdin(data).ok()) return false;
  char buffer[32 << 10];
  while (!detached) {
    ssize_t n = ::read(s.fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data = detector.Feed(absl::string_view(buffer, static_cast<size_t>(n)), &detached);
    if (!data.empty() && !s.write_stdin(data).ok()) return false;
  }
  if (detached) return true;
  if (s.close_stdin && !s.tty) {
    s.close_stdin_fn();
    return false;
  }
  return true;
}

}  // namespace

void PumpAttachedStreams(const AttachedStreams& s, OutputSubscriber& output) {
  std::atomic<bool> input_ended_attach{false};
  std::thread input;
  if (s.want_stdin) {
    input = std::thread([&] {
      if (CopyInput(s)) {
        input_ended_attach.store(true);
        ::shutdown(s.fd, SHUT_RDWR);
      }
    });
  }
  while (!input_ended_attach.load()) {
    OutputSubscriber::Chunk chunk;
    auto next = output.Pop(chunk, absl::Milliseconds(250));
    if (next == OutputSubscriber::Next::kEnd) break;
    if (next == OutputSubscriber::Next::kTimeout) {
      if (!s.want_stdin) {
        // A client that closed the connection is gone; one that only shut
        // its writing side (docker 20.10 attach --no-stdin) still reads.
        pollfd p{s.fd, 0, 0};
        if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)) != 0) break;
      }
      continue;
    }
    if ((chunk.stream == StreamKind::kStdout && !s.want_stdout) ||
        (chunk.stream == StreamKind::kStderr && !s.want_stderr)) {
      continue;
    }
    if (!WriteAll(s.fd, s.tty ? chunk.data : Frame(chunk.stream, chunk.data))) break;
  }
  ::shutdown(s.fd, SHUT_RDWR);
  if (input.joinable()) input.join();
}

}  // namespace berth::engine
