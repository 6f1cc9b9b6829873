// docker run/create flags -> POST /containers/create body, as docker's opts.go.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "cli/commands/container_opts.h"

using berth::cli::AddContainerFlags;
using berth::cli::BuildCreateBody;
using berth::cli::ContainerOptions;
using Json = nlohmann::ordered_json;

namespace {

// Parses "run" flags (up to the image, as the CLI does) and builds the body.
absl::StatusOr<Json> Body(std::vector<std::string> flags, std::vector<std::string> positional) {
  CLI::App app;
  ContainerOptions o;
  AddContainerFlags(&app, &o, true);
  std::vector<std::string> reversed(flags.rbegin(), flags.rend());
  app.parse(reversed);
  berth::cli::RecordChangedFlags(&app, &o);
  o.image = positional[0];
  o.args.assign(positional.begin() + 1, positional.end());
  return BuildCreateBody(o);
}

}  // namespace

TEST_CASE("create body: defaults as docker sends them") {
  auto b = Body({}, {"busybox"});
  REQUIRE(b.ok());
  CHECK((*b)["Image"] == "busybox");
  CHECK((*b)["Cmd"].is_null());
  CHECK((*b)["Entrypoint"].is_null());
  CHECK((*b)["AttachStdout"] == true);
  CHECK((*b)["AttachStderr"] == true);
  CHECK((*b)["AttachStdin"] == false);
  CHECK((*b)["Env"] == Json::array());
  CHECK((*b)["Labels"] == Json::object());
  CHECK((*b)["HostConfig"]["NetworkMode"] == "default");
  CHECK((*b)["HostConfig"]["RestartPolicy"]["Name"] == "no");
  CHECK((*b)["HostConfig"]["AutoRemove"] == false);
  CHECK_FALSE((*b)["HostConfig"].contains("Init"));
  CHECK_FALSE(b->contains("StopTimeout"));
}

TEST_CASE("create body: -e then --env-file order, bare names from the environment") {
  char path[] = "/tmp/berth-envfile-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  struct Unlink {
    const char* p;
    ~Unlink() { unlink(p); }
  } unlink_at_end{path};
  {
    std::ofstream f(path);
    f << "# comment\n\nFROM_FILE=1\n  SPACED=a b\nBERTH_TEST_PASSTHROUGH\nBERTH_TEST_UNSET\n";
  }
  setenv("BERTH_TEST_PASSTHROUGH", "yes", 1);
  unsetenv("BERTH_TEST_UNSET");
  auto b = Body({"-e", "A=1", "--env-file", path, "-e", "BERTH_TEST_PASSTHROUGH", "--env=B="},
                {"busybox", "env"});
  REQUIRE(b.ok());
  CHECK((*b)["Env"] == Json::array({"FROM_FILE=1", "SPACED=a b", "BERTH_TEST_PASSTHROUGH=yes",
                                    "A=1", "BERTH_TEST_PASSTHROUGH=yes", "B="}));
  CHECK((*b)["Cmd"] == Json::array({"env"}));
  CHECK_FALSE(Body({"--env-file", "/nonexistent/env"}, {"busybox"}).ok());
}

TEST_CASE("create body: entrypoint, user, workdir, labels, hostname, stop flags") {
  auto b = Body({"--entrypoint", "", "-u", "1:2", "-w", "/tmp", "-l", "k=v", "--label", "bare",
                 "--hostname", "h", "--stop-signal", "SIGUSR1", "--stop-timeout", "5"},
                {"busybox", "sh", "-c", "x"});
  REQUIRE(b.ok());
  CHECK((*b)["Entrypoint"] == Json::array({""}));
  CHECK((*b)["Cmd"] == Json::array({"sh", "-c", "x"}));
  CHECK((*b)["User"] == "1:2");
  CHECK((*b)["WorkingDir"] == "/tmp");
  CHECK((*b)["Labels"] == Json({{"k", "v"}, {"bare", ""}}));
  CHECK((*b)["Hostname"] == "h");
  CHECK((*b)["StopSignal"] == "SIGUSR1");
  CHECK((*b)["StopTimeout"] == 5);
  auto e = Body({"--entrypoint", "/bin/sh"}, {"busybox"});
  CHECK((*e)["Entrypoint"] == Json::array({"/bin/sh"}));
}

TEST_CASE("create body: HostConfig flags") {
  auto b = Body({"-m", "64m", "--network", "none", "--rm", "--init", "--privileged", "--cap-add",
                 "NET_ADMIN", "--cap-drop", "MKNOD", "--cap-drop", "CHOWN", "--read-only",
                 "--security-opt", "no-new-privileges", "--restart", "no"},
                {"busybox"});
  REQUIRE(b.ok());
  const Json& h = (*b)["HostConfig"];
  CHECK(h["Memory"] == 64 * 1024 * 1024);
  CHECK(h["NetworkMode"] == "none");
  CHECK(h["AutoRemove"] == true);
  CHECK(h["Init"] == true);
  CHECK(h["Privileged"] == true);
  CHECK(h["CapAdd"] == Json::array({"NET_ADMIN"}));
  CHECK(h["CapDrop"] == Json::array({"MKNOD", "CHOWN"}));
  CHECK(h["ReadonlyRootfs"] == true);
  CHECK(h["SecurityOpt"] == Json::array({"no-new-privileges"}));
  CHECK((*b)["NetworkingConfig"]["EndpointsConfig"] == Json::object());
  CHECK((*Body({"--network", "host"}, {"busybox"}))["HostConfig"]["NetworkMode"] == "host");
  CHECK((*Body({"--init=false"}, {"busybox"}))["HostConfig"]["Init"] == false);
  CHECK(Body({"--rm", "--restart", "always"}, {"busybox"}).status().message() ==
        "Conflicting options: --restart and --rm");
  CHECK_FALSE(Body({"-m", "lots"}, {"busybox"}).ok());
  auto r = Body({"--restart", "on-failure:3", "-v", "/a:/b:ro", "-v", "/data"}, {"busybox"});
  CHECK((*r)["HostConfig"]["RestartPolicy"] ==
        Json({{"Name", "on-failure"}, {"MaximumRetryCount", 3}}));
  CHECK((*r)["HostConfig"]["Binds"] == Json::array({"/a:/b:ro"}));
  CHECK((*r)["Volumes"] == Json({{"/data", Json::object()}}));
}

TEST_CASE("create body: -i, -t, -d and -a set the attach fields") {
  auto it = Body({"-it"}, {"busybox"});
  CHECK((*it)["Tty"] == true);
  CHECK((*it)["OpenStdin"] == true);
  CHECK((*it)["AttachStdin"] == true);
  CHECK((*it)["StdinOnce"] == true);
  auto d = Body({"-d", "-i"}, {"busybox"});
  CHECK((*d)["OpenStdin"] == true);
  CHECK((*d)["AttachStdin"] == false);
  CHECK((*d)["AttachStdout"] == false);
  CHECK((*d)["StdinOnce"] == false);
  auto a = Body({"-a", "stdout"}, {"busybox"});
  CHECK((*a)["AttachStdout"] == true);
  CHECK((*a)["AttachStderr"] == false);
  CHECK_FALSE(Body({"-a", "nope"}, {"busybox"}).ok());
  CHECK(berth::cli::ValidatePullOption("missing").ok());
  CHECK(berth::cli::ValidatePullOption("sometimes").message() ==
        "invalid pull option: 'sometimes': must be one of \"always\", \"missing\" or \"never\"");
}
