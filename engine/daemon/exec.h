// A process run in a running container (POST /containers/{id}/exec, then
// POST /exec/{id}/start): what it was created with, and its state while it
// runs and after it exited. Exec records live in berthd's memory only (as in
// dockerd): a restarted berthd forgets them; a container's go with it when it
// is removed.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/daemon/container_io.h"
#include "engine/daemon/output_hub.h"

namespace berth::engine {

struct Exec {
  // Set at creation, never changed.
  std::string id;  // 64 hex
  std::string container_id;
  std::string entrypoint;
  std::vector<std::string> arguments;
  std::vector<std::string> env;
  std::string user, working_dir, detach_keys;
  bool tty = false, attach_stdin = false, attach_stdout = false, attach_stderr = false;
  bool privileged = false;
  std::optional<std::pair<uint32_t, uint32_t>> console_size;  // height, width
  std::shared_ptr<OutputHub> hub = std::make_shared<OutputHub>();

  std::mutex mu;  // guards the rest
  std::condition_variable cv;
  bool claimed = false;     // a start was asked for (a second one is refused)
  bool start_done = false;  // the start succeeded or failed
  bool running = false;
  std::optional<int> exit_code;
  int pid = 0;
  std::unique_ptr<ContainerIo> io;

  // GET /exec/{id}/json (mu not held).
  nlohmann::ordered_json Inspect();
};

}  // namespace berth::engine
