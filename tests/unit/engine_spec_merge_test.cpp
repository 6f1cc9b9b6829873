// dockerd's merge of a create request's Config with the image config.
#include <catch2/catch.hpp>

#include "engine/spec/image_config_merge.h"

using berth::Json;
using berth::engine::spec::MergeImageConfig;
using berth::engine::spec::ProcessArgs;

namespace {

const Json kImage = {
    {"Env", {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "KEEP=image"}},
    {"Entrypoint", {"/docker-entrypoint.sh"}},
    {"Cmd", {"nginx", "-g", "daemon off;"}},
    {"WorkingDir", "/srv"},
    {"User", "www"},
    {"StopSignal", "SIGQUIT"},
    {"Labels", {{"maintainer", "image"}, {"version", "1"}}},
    {"ExposedPorts", {{"80/tcp", Json::object()}}},
    {"Volumes", {{"/cache", Json::object()}}},
    {"Healthcheck", {{"Test", {"CMD", "true"}}, {"Interval", 30000000000}, {"Retries", 3}}},
};

Json Merged(Json config) {
  REQUIRE(MergeImageConfig(config, kImage).ok());
  return config;
}

}  // namespace

TEST_CASE("merge: an empty request takes the image's entrypoint, cmd and settings") {
  Json config = Merged(Json::object());
  CHECK(config["Entrypoint"] == Json({"/docker-entrypoint.sh"}));
  CHECK(config["Cmd"] == Json({"nginx", "-g", "daemon off;"}));
  CHECK(config["WorkingDir"] == "/srv");
  CHECK(config["User"] == "www");
  CHECK(config["StopSignal"] == "SIGQUIT");
  CHECK(config["Env"] == kImage["Env"]);
  CHECK(config["Labels"] == kImage["Labels"]);
  CHECK(config["ExposedPorts"] == kImage["ExposedPorts"]);
  CHECK(config["Volumes"] == kImage["Volumes"]);
  CHECK(config["Healthcheck"] == kImage["Healthcheck"]);
  CHECK(*ProcessArgs(config) ==
        std::vector<std::string>{"/docker-entrypoint.sh", "nginx", "-g", "daemon off;"});
}

TEST_CASE("merge: a request Cmd replaces the image's and keeps its entrypoint") {
  Json config = Merged({{"Cmd", {"sh"}}});
  CHECK(config["Entrypoint"] == Json({"/docker-entrypoint.sh"}));
  CHECK(config["Cmd"] == Json({"sh"}));
}

TEST_CASE("merge: a request Entrypoint replaces the image's and drops the image Cmd") {
  Json config = Merged({{"Entrypoint", {"/bin/echo"}}});
  CHECK(config["Entrypoint"] == Json({"/bin/echo"}));
  CHECK(config["Cmd"].is_null());
  CHECK(*ProcessArgs(config) == std::vector<std::string>{"/bin/echo"});

  Json both = Merged({{"Entrypoint", {"/bin/echo"}}, {"Cmd", {"hi"}}});
  CHECK(*ProcessArgs(both) == std::vector<std::string>{"/bin/echo", "hi"});
}

TEST_CASE("merge: Entrypoint [\"\"] clears the entrypoint and the image Cmd") {
  Json with_cmd = Merged({{"Entrypoint", {""}}, {"Cmd", {"ls", "/"}}});
  CHECK(with_cmd["Entrypoint"].is_null());
  CHECK(*ProcessArgs(with_cmd) == std::vector<std::string>{"ls", "/"});

  // Nothing left to run: dockerd's error.
  Json bare = {{"Entrypoint", {""}}};
  absl::Status status = MergeImageConfig(bare, kImage);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message() == "No command specified");
}

TEST_CASE("merge: an empty Entrypoint array drops the image's but still inherits its Cmd") {
  // dockerd: len(Entrypoint)==0 takes the image Cmd; only a null Entrypoint
  // takes the image's entrypoint.
  Json config = Merged({{"Entrypoint", Json::array()}});
  CHECK(config["Entrypoint"].is_null());
  CHECK(*ProcessArgs(config) == std::vector<std::string>{"nginx", "-g", "daemon off;"});
}

TEST_CASE("merge: Cmd and Entrypoint may be plain strings (StrSlice)") {
  Json config = Merged({{"Entrypoint", "/bin/sh"}, {"Cmd", "-c"}});
  CHECK(config["Entrypoint"] == Json({"/bin/sh"}));
  CHECK(config["Cmd"] == Json({"-c"}));
}

TEST_CASE("merge: no command anywhere is dockerd's error") {
  Json config = Json::object();
  absl::Status status = MergeImageConfig(config, {{"Env", {"A=b"}}});
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message() == "No command specified");
  Json null_config;  // a null Config is an empty one
  CHECK(MergeImageConfig(null_config, kImage).ok());
}

TEST_CASE("merge: Env keeps the request's entries first, then the image's it does not name") {
  Json config = Merged({{"Env", {"LANG=en_US.UTF-8", "NEW=1", "KEEP"}}});
  // KEEP without '=' names the image's KEEP: it is not inherited (and the bare
  // entry itself unsets it in the process environment later).
  CHECK(config["Env"] ==
        Json({"LANG=en_US.UTF-8", "NEW=1", "KEEP", "PATH=/usr/local/bin:/usr/bin:/bin"}));
}

TEST_CASE("merge: request values win over the image's") {
  Json config = Merged({{"Cmd", {"x"}},
                        {"User", "root"},
                        {"WorkingDir", "/tmp"},
                        {"StopSignal", "SIGTERM"},
                        {"Labels", {{"version", "2"}, {"extra", "yes"}}},
                        {"ExposedPorts", {{"443/tcp", Json::object()}}},
                        {"Volumes", {{"/data", Json::object()}}}});
  CHECK(config["User"] == "root");
  CHECK(config["WorkingDir"] == "/tmp");
  CHECK(config["StopSignal"] == "SIGTERM");
  CHECK(config["Labels"] == Json({{"maintainer", "image"}, {"version", "2"}, {"extra", "yes"}}));
  CHECK(config["ExposedPorts"] == Json({{"443/tcp", Json::object()}, {"80/tcp", Json::object()}}));
  CHECK(config["Volumes"] == Json({{"/cache", Json::object()}, {"/data", Json::object()}}));
}

TEST_CASE("merge: a request Healthcheck is completed field by field from the image's") {
  Json config = Merged({{"Cmd", {"x"}}, {"Healthcheck", {{"Interval", 5000000000}}}});
  CHECK(config["Healthcheck"]["Interval"] == 5000000000);
  CHECK(config["Healthcheck"]["Test"] == Json({"CMD", "true"}));
  CHECK(config["Healthcheck"]["Retries"] == 3);
}

TEST_CASE("merge: wrong types are errors, not crashes") {
  Json config = {{"Env", "A=b"}};
  CHECK(MergeImageConfig(config, kImage).code() == absl::StatusCode::kInvalidArgument);
  Json labels = {{"Labels", Json::array()}};
  CHECK(MergeImageConfig(labels, kImage).message() ==
        "Config.Labels: expected an object, got array");
  Json not_object = Json::array();
  CHECK(MergeImageConfig(not_object, kImage).code() == absl::StatusCode::kInvalidArgument);
  Json bad_cmd = {{"Cmd", {1, 2}}};
  CHECK(MergeImageConfig(bad_cmd, kImage).code() == absl::StatusCode::kInvalidArgument);
}
