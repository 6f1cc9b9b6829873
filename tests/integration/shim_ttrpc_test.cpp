// containerd-shim-berth-v2 driven directly over ttrpc, as containerd would,
// with the requests containerd never sends: malformed payloads, unknown ids
// and methods, garbage on the socket, a bundle without config.json. Each
// case starts a real shim with `start` in a temp bundle and ends with it gone.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "common/fd_util.h"
#include "common/process.h"
#include "common/ttrpc/client.h"
#include "containerd/runc/options.pb.h"
#include "containerd/task/v2/shim.pb.h"
#include "containerd/types/introspection.pb.h"

namespace {

namespace task = containerd::task::v2;
constexpr char kTask[] = "containerd.task.v2.Task";

bool Alive(pid_t pid) {
  std::string stat;
  auto text = berth::ReadFileToString("/proc/" + std::to_string(pid) + "/stat");
  if (!text.ok()) return false;
  return text->substr(text->rfind(')') + 2, 1) != "Z";
}

// A shim started by `start` in a fresh bundle; killed and removed at the end.
struct StartedShim {
  StartedShim() {
    char tmpl[] = "/tmp/berth-shim-test-XXXXXX";
    bundle = ::mkdtemp(tmpl);
    REQUIRE(berth::WriteStringToFile(bundle + "/log", "").ok());
    auto pipe = berth::MakePipe();
    REQUIRE(pipe.ok());
    berth::SpawnOptions options;
    options.argv = {BERTH_SHIM_BINARY,
                    "-namespace",
                    "berth-test",
                    "-id",
                    "c1",
                    "-address",
                    bundle + "/no-containerd.sock",
                    "-publish-binary",
                    "/bin/true",
                    "start"};
    options.cwd = bundle;
    options.fds = {{1, pipe->second.Get()}};
    auto child = berth::Spawn(options);
    REQUIRE(child.ok());
    pipe->second.Reset();
    auto out = berth::ReadAll(pipe->first.Get());
    REQUIRE(child->Wait().value_or(-1) == 0);
    REQUIRE(out.ok());
    address = *out;
    auto written = berth::ReadFileToString(bundle + "/address");
    REQUIRE(written.ok());
    CHECK(*written == address);
    REQUIRE(absl::StartsWith(address, "unix:///"));
    socket_path = std::string(absl::StripPrefix(address, "unix://"));
    auto client = berth::ttrpc::Client::Connect(address);
    REQUIRE(client.ok());
    auto connect = client->Call(kTask, "Connect", task::ConnectRequest().SerializeAsString());
    REQUIRE(connect.ok());
    task::ConnectResponse response;
    REQUIRE(response.ParseFromString(*connect));
    pid = static_cast<pid_t>(response.shim_pid());
    REQUIRE(pid > 0);
    CHECK(response.task_pid() == 0);
  }
  ~StartedShim() {
    if (pid > 0 && Alive(pid)) ::kill(pid, SIGKILL);
    for (int i = 0; i < 100 && pid > 0 && Alive(pid); ++i) ::usleep(10000);
    ::unlink(socket_path.c_str());
    std::filesystem::remove_all(bundle);
  }

  absl::StatusOr<std::string> Call(const char* method, const std::string& payload) {
    auto client = berth::ttrpc::Client::Connect(address);
    if (!client.ok()) return client.status();
    return client->Call(kTask, method, payload);
  }

  std::string bundle, address, socket_path;
  pid_t pid = -1;
};

}  // namespace

TEST_CASE("shim: start prints the address it serves, and Connect names the shim") {
  StartedShim shim;
  CHECK(Alive(shim.pid));
  // The shim is in its own session, not our child's process group.
  CHECK(::getsid(shim.pid) == shim.pid);
}

TEST_CASE("shim: requests containerd never sends get clear errors, and the shim lives on") {
  StartedShim shim;
  SECTION("malformed request payload") {
    auto r = shim.Call("Create", std::string("\x0f\xff\xff", 3));
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("a container the shim does not serve") {
    task::StateRequest state;
    state.set_id("nope");
    CHECK(shim.Call("State", state.SerializeAsString()).status().code() ==
          absl::StatusCode::kNotFound);
    task::CreateTaskRequest create;
    create.set_id("other");
    create.set_bundle(shim.bundle);
    auto r = shim.Call("Create", create.SerializeAsString());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StrContains(r.status().message(), "serves container c1"));
  }
  SECTION("an unknown method, and Checkpoint") {
    CHECK(shim.Call("Frobnicate", "").status().code() == absl::StatusCode::kUnimplemented);
    CHECK(shim.Call("Checkpoint", "").status().code() == absl::StatusCode::kUnimplemented);
  }
  SECTION("runtime options of an unknown type") {
    task::CreateTaskRequest create;
    create.set_id("c1");
    create.set_bundle(shim.bundle);
    create.mutable_options()->set_type_url("example.com/Unknown");
    auto r = shim.Call("Create", create.SerializeAsString());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StrContains(r.status().message(), "example.com/Unknown"));
  }
  SECTION("a bundle without config.json: the runtime's own error") {
    containerd::runc::v1::Options options;
    options.set_binary_name(BERTH_OCI_BINARY);
    options.set_root(shim.bundle + "/runtime-root");
    task::CreateTaskRequest create;
    create.set_id("c1");
    create.set_bundle(shim.bundle);
    create.mutable_options()->set_type_url("containerd.runc.v1.Options");
    create.mutable_options()->set_value(options.SerializeAsString());
    auto r = shim.Call("Create", create.SerializeAsString());
    CHECK(r.status().code() == absl::StatusCode::kUnknown);
    CHECK(absl::StartsWith(r.status().message(), "OCI runtime create failed: "));
    CHECK(absl::StrContains(r.status().message(), "config.json"));
    // Nothing was created: the task is still unknown.
    task::StateRequest state;
    state.set_id("c1");
    CHECK(shim.Call("State", state.SerializeAsString()).status().code() ==
          absl::StatusCode::kNotFound);
  }
  SECTION("garbage bytes on a connection") {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, shim.socket_path.c_str(), sizeof addr.sun_path - 1);
    berth::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(::connect(fd.Get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    std::string garbage(64, '\xa5');
    REQUIRE(berth::WriteAll(fd.Get(), garbage).ok());
    char buf[16];
    CHECK(::read(fd.Get(), buf, sizeof buf) == 0);  // the shim hung up
  }
  // Whatever came before, the shim still answers.
  CHECK(shim.Call("Connect", "").ok());
  CHECK(Alive(shim.pid));
}

TEST_CASE("shim: Shutdown without a task ends the shim and removes its socket") {
  StartedShim shim;
  task::ShutdownRequest shutdown;
  shutdown.set_id("c1");
  CHECK(shim.Call("Shutdown", shutdown.SerializeAsString()).ok());
  for (int i = 0; i < 200 && Alive(shim.pid); ++i) ::usleep(10000);
  CHECK_FALSE(Alive(shim.pid));
  struct stat st;
  CHECK(::stat(shim.socket_path.c_str(), &st) != 0);
}

TEST_CASE("shim: a task that exited answers a new client's State and Wait, then deletes") {
  StartedShim shim;
  std::string bundle = shim.bundle + "/bundle";
  berth::SpawnOptions fixture;
  fixture.argv = {BERTH_FIXTURES "/busybox-bundle.sh", bundle, "sh", "-c", "exit 5"};
  auto built = berth::Spawn(fixture);
  REQUIRE(built.ok());
  REQUIRE(built->Wait().value_or(-1) == 0);

  containerd::runc::v1::Options options;
  options.set_binary_name(BERTH_OCI_BINARY);
  options.set_root(shim.bundle + "/runtime-root");
  task::CreateTaskRequest create;
  create.set_id("c1");
  create.set_bundle(bundle);
  create.mutable_options()->set_type_url("containerd.runc.v1.Options");
  create.mutable_options()->set_value(options.SerializeAsString());
  auto created = shim.Call("Create", create.SerializeAsString());
  REQUIRE(created.ok());
  task::CreateTaskResponse create_response;
  REQUIRE(create_response.ParseFromString(*created));
  pid_t init = static_cast<pid_t>(create_response.pid());
  CHECK(init > 0);

  task::StartRequest start;
  start.set_id("c1");
  REQUIRE(shim.Call("Start", start.SerializeAsString()).ok());

  task::StateRequest state_request;
  state_request.set_id("c1");
  task::StateResponse state;
  for (int i = 0; i < 500; ++i) {
    auto answer = shim.Call("State", state_request.SerializeAsString());
    REQUIRE(answer.ok());
    REQUIRE(state.ParseFromString(*answer));
    if (state.status() == containerd::v1::types::STOPPED) break;
    ::usleep(10000);
  }
  CHECK(state.status() == containerd::v1::types::STOPPED);
  CHECK(state.exit_status() == 5);
  CHECK(state.pid() == static_cast<uint32_t>(init));
  CHECK_FALSE(Alive(init));  // reaped by the shim

  // Another connection, after the fact: Wait answers at once.
  task::WaitRequest wait;
  wait.set_id("c1");
  auto waited = shim.Call("Wait", wait.SerializeAsString());
  REQUIRE(waited.ok());
  task::WaitResponse wait_response;
  REQUIRE(wait_response.ParseFromString(*waited));
  CHECK(wait_response.exit_status() == 5);
  CHECK(wait_response.exited_at().seconds() > 0);

  // A task that exists keeps the shim through Shutdown; Delete lets it go.
  task::ShutdownRequest shutdown;
  shutdown.set_id("c1");
  REQUIRE(shim.Call("Shutdown", shutdown.SerializeAsString()).ok());
  ::usleep(100000);
  CHECK(Alive(shim.pid));
  task::DeleteRequest del;
  del.set_id("c1");
  auto deleted = shim.Call("Delete", del.SerializeAsString());
  REQUIRE(deleted.ok());
  task::DeleteResponse delete_response;
  REQUIRE(delete_response.ParseFromString(*deleted));
  CHECK(delete_response.exit_status() == 5);
  CHECK_FALSE(std::filesystem::exists(shim.bundle + "/runtime-root/berth-test/c1"));
  REQUIRE(shim.Call("Shutdown", shutdown.SerializeAsString()).ok());
  for (int i = 0; i < 200 && Alive(shim.pid); ++i) ::usleep(10000);
  CHECK_FALSE(Alive(shim.pid));
}

TEST_CASE("shim: -info prints RuntimeInfo with the runtime's features") {
  containerd::runc::v1::Options options;
  options.set_binary_name(BERTH_OCI_BINARY);
  berth::wire::Any any;
  any.set_type_url("containerd.runc.v1.Options");
  any.set_value(options.SerializeAsString());
  auto result = berth::RunAndCapture({BERTH_SHIM_BINARY, "-info"}, any.SerializeAsString());
  REQUIRE(result.ok());
  CHECK(result->exit_code == 0);
  containerd::types::RuntimeInfo info;
  REQUIRE(info.ParseFromString(result->out));
  CHECK(info.name() == "io.containerd.berth.v2");
  CHECK_FALSE(info.version().version().empty());
  CHECK(info.options().type_url() == "containerd.runc.v1.Options");
  CHECK(info.features().type_url() ==
        "types.containerd.io/opencontainers/runtime-spec/1/features/Features");
  CHECK(absl::StrContains(info.features().value(), "\"ociVersionMax\""));

  // Options it cannot read: an error, not a guess.
  any.set_type_url("example.com/Unknown");
  result = berth::RunAndCapture({BERTH_SHIM_BINARY, "-info"}, any.SerializeAsString());
  REQUIRE(result.ok());
  CHECK(result->exit_code != 0);
  CHECK(absl::StrContains(result->err, "example.com/Unknown"));
}
