// Image configuration: the run defaults and the rootfs diff_ids.
#include "highlevel-runtime/image/image_config.h"

#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

namespace rt = berth::runtimed;
using berth::Json;

namespace {

std::string Digest(char c) { return "sha256:" + std::string(64, c); }

// What docker writes for a small image (trimmed).
Json FullConfig() {
  return Json{
      {"architecture", "arm64"},
      {"os", "linux"},
      {"variant", "v8"},
      {"created", "2024-05-01T12:00:00.123456789Z"},
      {"author", "someone"},
      {"config",
       {{"Env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "A=b=c"}},
        {"Cmd", {"nginx", "-g", "daemon off;"}},
        {"Entrypoint", {"/docker-entrypoint.sh"}},
        {"WorkingDir", "/srv"},
        {"User", "101:101"},
        {"ExposedPorts", {{"80/tcp", Json::object()}, {"443/tcp", Json::object()}}},
        {"Volumes", {{"/var/cache/nginx", Json::object()}}},
        {"Labels", {{"maintainer", "NGINX"}, {"org.opencontainers.image.version", "1.25"}}},
        {"StopSignal", "SIGQUIT"}}},
      {"rootfs", {{"type", "layers"}, {"diff_ids", {Digest('1'), Digest('2'), Digest('3')}}}},
      {"history", Json::array({{{"created_by", "ADD rootfs.tar /"}},
                               {{"created_by", "CMD [\"nginx\"]"}, {"empty_layer", true}},
                               {{"created_by", "COPY a /"}},
                               {{"created_by", "RUN x"}}})},
  };
}

struct BadConfig {
  std::string name;
  std::function<void(Json&)> mutate;
  std::string message;  // the whole message
};

std::string Message(const absl::Status& status) { return std::string(status.message()); }

}  // namespace

TEST_CASE("a full image config parses") {
  auto c = rt::ParseImageConfig(FullConfig().dump());
  REQUIRE(c.ok());
  CHECK(c->architecture == "arm64");
  CHECK(c->os == "linux");
  CHECK(c->variant == "v8");
  CHECK(c->platform() == rt::Platform{"linux", "arm64", "v8"});
  CHECK(c->created == "2024-05-01T12:00:00.123456789Z");
  CHECK(c->author == "someone");
  CHECK(c->env ==
        std::vector<std::string>{
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "A=b=c"});
  CHECK(c->cmd == std::vector<std::string>{"nginx", "-g", "daemon off;"});
  CHECK(c->entrypoint == std::vector<std::string>{"/docker-entrypoint.sh"});
  CHECK(c->working_dir == "/srv");
  CHECK(c->user == "101:101");
  CHECK(c->exposed_ports == std::vector<std::string>{"443/tcp", "80/tcp"});  // sorted
  CHECK(c->volumes == std::vector<std::string>{"/var/cache/nginx"});
  CHECK(c->labels == std::map<std::string, std::string>{
                         {"maintainer", "NGINX"}, {"org.opencontainers.image.version", "1.25"}});
  CHECK(c->stop_signal == "SIGQUIT");
  CHECK(c->rootfs_type == "layers");
  CHECK(c->diff_ids == std::vector<std::string>{Digest('1'), Digest('2'), Digest('3')});
  CHECK(c->history_count == 4);
}

TEST_CASE("a minimal image config parses with empty defaults") {
  // OCI requires only architecture, os and rootfs; docker omits empty diff_ids.
  Json doc = {{"architecture", "amd64"}, {"os", "linux"}, {"rootfs", {{"type", "layers"}}}};
  auto c = rt::ParseImageConfig(doc.dump());
  REQUIRE(c.ok());
  CHECK(c->platform() == rt::Platform{"linux", "amd64", ""});
  CHECK(c->env.empty());
  CHECK(c->cmd.empty());
  CHECK(c->entrypoint.empty());
  CHECK(c->working_dir.empty());
  CHECK(c->user.empty());
  CHECK(c->exposed_ports.empty());
  CHECK(c->labels.empty());
  CHECK(c->diff_ids.empty());
  CHECK(c->history_count == 0);

  // Null members (what docker writes for an unset Cmd or Labels) read as empty.
  doc["config"] = {{"Cmd", nullptr},
                   {"Entrypoint", nullptr},
                   {"Env", {"A=1"}},
                   {"Labels", nullptr},
                   {"ExposedPorts", nullptr}};
  doc["rootfs"]["diff_ids"] = nullptr;
  doc["history"] = nullptr;
  auto nulls = rt::ParseImageConfig(doc.dump());
  REQUIRE(nulls.ok());
  CHECK(nulls->cmd.empty());
  CHECK(nulls->entrypoint.empty());
  CHECK(nulls->env == std::vector<std::string>{"A=1"});
  CHECK(nulls->labels.empty());
  CHECK(nulls->exposed_ports.empty());
  CHECK(nulls->diff_ids.empty());
}

TEST_CASE("bad image configs are refused naming the field") {
  REQUIRE(rt::ParseImageConfig(FullConfig().dump()).ok());
  auto c = GENERATE(values<BadConfig>({
      {"rootfs missing", [](Json& d) { d.erase("rootfs"); }, "image config: rootfs: missing"},
      {"rootfs null", [](Json& d) { d["rootfs"] = nullptr; }, "image config: rootfs: missing"},
      {"rootfs array", [](Json& d) { d["rootfs"] = Json::array(); },
       "image config: rootfs: expected an object, got array"},
      {"rootfs type missing", [](Json& d) { d["rootfs"].erase("type"); },
       "image config: rootfs.type: missing"},
      {"rootfs type other", [](Json& d) { d["rootfs"]["type"] = "squashfs"; },
       "image config: rootfs.type: unsupported \"squashfs\" (want \"layers\")"},
      {"diff_ids object", [](Json& d) { d["rootfs"]["diff_ids"] = Json::object(); },
       "image config: rootfs.diff_ids: expected an array, got object"},
      {"diff_id bad digest", [](Json& d) { d["rootfs"]["diff_ids"][1] = "sha256:abc"; },
       "image config: rootfs.diff_ids[1]: invalid digest \"sha256:abc\": want 64 hex digits "
       "after \"sha256:\", got 3"},
      {"diff_id no algorithm", [](Json& d) { d["rootfs"]["diff_ids"][2] = std::string(64, 'a'); },
       "image config: rootfs.diff_ids[2]: invalid digest \"" + std::string(64, 'a') +
           "\": want \"sha256:\" followed by 64 lowercase hex digits"},
      {"diff_id number", [](Json& d) { d["rootfs"]["diff_ids"][0] = 5; },
       "image config: rootfs.diff_ids[0]: unexpected number value 5"},
      {"architecture missing", [](Json& d) { d.erase("architecture"); },
       "image config: architecture: missing"},
      {"os missing", [](Json& d) { d.erase("os"); }, "image config: os: missing"},
      {"os number", [](Json& d) { d["os"] = 1; }, "image config: os: unexpected number value 1"},
      {"config string", [](Json& d) { d["config"] = "x"; },
       "image config: config: expected an object, got string"},
      {"Env string", [](Json& d) { d["config"]["Env"] = "A=1"; },
       "image config: config.Env: unexpected string value \"A=1\""},
      {"Cmd with a number",
       [](Json& d) {
         d["config"]["Cmd"] = {"sh", 1};
       },
       "image config: config.Cmd: unexpected array value [\"sh\",1]"},
      {"Entrypoint object", [](Json& d) { d["config"]["Entrypoint"] = Json::object(); },
       "image config: config.Entrypoint: unexpected object value {}"},
      {"WorkingDir array", [](Json& d) { d["config"]["WorkingDir"] = Json::array(); },
       "image config: config.WorkingDir: unexpected array value []"},
      {"User number", [](Json& d) { d["config"]["User"] = 0; },
       "image config: config.User: unexpected number value 0"},
      {"ExposedPorts array", [](Json& d) { d["config"]["ExposedPorts"] = {"80/tcp"}; },
       "image config: config.ExposedPorts: expected an object, got array"},
      {"Volumes string", [](Json& d) { d["config"]["Volumes"] = "/data"; },
       "image config: config.Volumes: expected an object, got string"},
      {"Label number", [](Json& d) { d["config"]["Labels"]["n"] = 1; },
       "image config: config.Labels: unexpected object value "
       "{\"maintainer\":\"NGINX\",\"n\":1,\"org.opencontainers.image.version\":\"1.25\"}"},
      {"history object", [](Json& d) { d["history"] = Json::object(); },
       "image config: history: expected an array, got object"},
  }));
  CAPTURE(c.name);
  Json doc = FullConfig();
  c.mutate(doc);
  auto config = rt::ParseImageConfig(doc.dump());
  REQUIRE_FALSE(config.ok());
  CHECK(config.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Message(config.status()) == c.message);
}

TEST_CASE("image config text that is not a JSON object is refused") {
  struct Case {
    std::string text, prefix;
  };
  auto c = GENERATE(values<Case>({
      {"", "image config: invalid JSON"},
      {"{\"os\": ", "image config: invalid JSON"},
      {"{\"os\": \"linux\",}", "image config: invalid JSON"},
      {"[]", "image config: expected a JSON object, got array"},
      {"null", "image config: expected a JSON object, got null"},
  }));
  CAPTURE(c.text);
  auto config = rt::ParseImageConfig(c.text);
  REQUIRE_FALSE(config.ok());
  CHECK(config.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(config.status()), Catch::StartsWith(c.prefix));
}

TEST_CASE("CheckLayersMatch wants one diff_id per manifest layer") {
  auto config = rt::ParseImageConfig(FullConfig().dump());
  REQUIRE(config.ok());
  rt::Manifest manifest;
  const std::string gz = "application/vnd.oci.image.layer.v1.tar+gzip";
  for (char c : {'a', 'b', 'c'}) manifest.layers.push_back({gz, Digest(c), 10, std::nullopt, {}});
  CHECK(rt::CheckLayersMatch(manifest, *config).ok());
  manifest.layers.pop_back();
  absl::Status st = rt::CheckLayersMatch(manifest, *config);
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK(Message(st) == "image config lists 3 diff_ids but the manifest has 2 layers");
}
