#include "common/json.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>

#include "common/fd_util.h"

TEST_CASE("ParseJson names the document and the position") {
  auto bad = berth::ParseJson("{\"a\": }", "config.json");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  std::string msg(bad.status().message());
  CHECK(msg.rfind("config.json: invalid JSON: parse error at line 1, column 7", 0) == 0);
  CHECK(berth::ParseJson("", "empty").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK((*berth::ParseJson("[1,2]", "x")).size() == 2);
}

TEST_CASE("JsonField requires presence and type") {
  auto doc = *berth::ParseJson(R"({"process": {"user": {"uid": "zero"}, "cwd": "/"}})", "t");
  auto user = berth::JsonField<berth::Json>(doc["process"], "user", "process");
  REQUIRE(user.ok());
  auto uid = berth::JsonField<uint32_t>(*user, "uid", "process.user");
  REQUIRE_FALSE(uid.ok());
  CHECK(uid.status().message() == "process.user.uid: unexpected string value \"zero\"");
  auto gid = berth::JsonField<uint32_t>(*user, "gid", "process.user");
  CHECK(gid.status().message() == "process.user.gid: missing");
  CHECK(*berth::JsonField<std::string>(doc["process"], "cwd", "process") == "/");
  auto not_object = berth::JsonField<int>(berth::Json::array(), "x", "linux");
  CHECK(not_object.status().message() == "linux: expected an object, got array");
}

TEST_CASE("JsonOptionalField distinguishes absent from wrong") {
  auto doc = *berth::ParseJson(R"({"terminal": true, "umask": "x", "nothing": null})", "t");
  CHECK(**berth::JsonOptionalField<bool>(doc, "terminal", "process") == true);
  CHECK_FALSE(berth::JsonOptionalField<bool>(doc, "absent", "process")->has_value());
  CHECK_FALSE(berth::JsonOptionalField<bool>(doc, "nothing", "process")->has_value());
  auto umask = berth::JsonOptionalField<uint32_t>(doc, "umask", "process");
  CHECK(umask.status().message() == "process.umask: unexpected string value \"x\"");
}

TEST_CASE("WriteJsonFileAtomic and ReadJsonFile round-trip") {
  char tmpl[] = "/tmp/berth-json-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  berth::Json value = {{"id", "c1"}, {"pid", 42}};
  REQUIRE(berth::WriteJsonFileAtomic(dir + "/state.json", value).ok());
  auto back = berth::ReadJsonFile(dir + "/state.json");
  REQUIRE(back.ok());
  CHECK(*back == value);
  REQUIRE(berth::WriteFileAtomic(dir + "/broken.json", "{not json").ok());
  auto broken = berth::ReadJsonFile(dir + "/broken.json");
  CHECK(broken.status().message().find(dir + "/broken.json: invalid JSON") == 0);
  CHECK(berth::ReadJsonFile(dir + "/missing.json").status().code() == absl::StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}
