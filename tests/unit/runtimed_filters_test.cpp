#include <catch2/catch.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "highlevel-runtime/filters.h"

using berth::runtimed::Filter;
using berth::runtimed::FilterSchema;

namespace {

const FilterSchema kSchema{"images", {"name", "target.digest"}};

// An object with a few fields and labels.
struct Object {
  std::map<std::string, std::string> fields;  // dot-joined path -> value
  std::map<std::string, std::string> labels;

  std::optional<std::string> Get(const Filter::FieldPath& path) const {
    if (path[0] == "labels") return Filter::Label(labels, path);
    auto it = fields.find(absl::StrJoin(path, "."));
    if (it == fields.end()) return std::nullopt;
    return it->second;
  }
};

const Object kBusybox{
    {{"name", "docker.io/library/busybox:latest"}, {"target.digest", "sha256:aa"}},
    {{"env", "prod"}, {"com.example.tier", "db"}, {"sp ace", "a,b"}}};
const Object kAlpine{{{"name", "docker.io/library/alpine:3"}, {"target.digest", "sha256:bb"}},
                     {{"env", "dev"}}};

// Which of busybox and alpine the filters select: "b", "a", "ba" or "".
std::string Select(const std::vector<std::string>& filters) {
  auto filter = Filter::Parse(filters, kSchema);
  REQUIRE(filter.ok());
  std::string out;
  if (filter->Matches([](const Filter::FieldPath& p) { return kBusybox.Get(p); })) out += "b";
  if (filter->Matches([](const Filter::FieldPath& p) { return kAlpine.Get(p); })) out += "a";
  return out;
}

std::string Error(const std::string& text) {
  auto filter = Filter::Parse({text}, kSchema);
  REQUIRE_FALSE(filter.ok());
  CHECK(filter.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(filter.status().message());
}

}  // namespace

TEST_CASE("filters: no filter, or an empty one, selects everything", "[filters]") {
  CHECK(Select({}) == "ba");
  CHECK(Select({""}) == "ba");
  CHECK(Select({"   "}) == "ba");
  CHECK(Select({"labels.env==nope", ""}) == "ba");
}

TEST_CASE("filters: equality, inequality, presence", "[filters]") {
  CHECK(Select({"name==docker.io/library/busybox:latest"}) == "b");
  CHECK(Select({"name!=docker.io/library/busybox:latest"}) == "a");
  CHECK(Select({"labels.env==prod"}) == "b");
  CHECK(Select({"labels.env"}) == "ba");
  CHECK(Select({"labels.missing"}).empty());
  // != matches an absent field, as in containerd (its value is "").
  CHECK(Select({"labels.missing!=x"}) == "ba");
  CHECK(Select({"target.digest==sha256:bb"}) == "a");
}

TEST_CASE("filters: label keys with dots, quoted keys and quoted values", "[filters]") {
  CHECK(Select({"labels.com.example.tier==db"}) == "b");
  CHECK(Select({"labels.\"com.example.tier\"==db"}) == "b");
  CHECK(Select({"labels.\"sp ace\"==\"a,b\""}) == "b");
  CHECK(Select({"labels.\"sp ace\"=='a"}).empty());
  CHECK(Select({"labels.env==\"pr\\u006fd\""}) == "b");
  CHECK(Select({"labels.env==\"\\x70rod\""}) == "b");
  CHECK(Select({"labels.env==\"\\160rod\""}) == "b");
}

TEST_CASE("filters: comma is AND, several strings are OR", "[filters]") {
  CHECK(Select({"labels.env==prod,name~=alpine"}).empty());
  CHECK(Select({"labels.env,name~=alpine"}) == "a");
  CHECK(Select({"labels.env==prod", "name~=alpine"}) == "ba");
  CHECK(Select({"labels.env==dev", "labels.env==nope"}) == "a");
  // Spaces between tokens do not matter.
  CHECK(Select({"  labels.env == prod ,  name ~= busy  "}) == "b");
}

TEST_CASE("filters: regular expressions (RE2) and contains", "[filters]") {
  CHECK(Select({"name~=^docker.io/library/"}) == "ba");
  CHECK(Select({"name~=busybox$"}).empty());
  CHECK(Select({"name~=busybox:[a-z]+$"}) == "b");
  CHECK(Select({"name~=/:\\d+$/"}) == "a");  // \d kept for RE2 inside /.../
  CHECK(Select({"name~=|alp|"}) == "a");
  CHECK(Select({"name~=/a\\/b/"}).empty());  // \/ is the quote itself
  CHECK(Select({"name@=alpine"}) == "a");
  CHECK(Select({"labels.com.example.tier@=d"}) == "b");
}

TEST_CASE("filters: a bad filter says where and what", "[filters]") {
  CHECK(
      Error("name=x") ==
      "invalid filter \"name=x\" at column 5: unsupported operator \"=\" (want ==, !=, ~= or @=)");
  CHECK(Error("foo==x") ==
        "invalid filter \"foo==x\" at column 1: unknown field \"foo\" (images have name, "
        "target.digest, labels.KEY)");
  CHECK(Error("name==x,target==y").find("at column 9: unknown field \"target\"") !=
        std::string::npos);
  CHECK(Error("labels") ==
        "invalid filter \"labels\" at column 1: \"labels\" wants a key: labels.KEY");
  CHECK(Error("name==") ==
        "invalid filter \"name==\" at the end: want a value after \"==\", found the end");
  CHECK(Error("name==x,") ==
        "invalid filter \"name==x,\" at the end: want a field name (letters, digits, '_', '-') "
        "or a quoted one, found the end");
  CHECK(Error("name==x y") ==
        "invalid filter \"name==x y\" at column 9: want \",\" or the end after a selector, "
        "found \"y\"");
  CHECK(Error("name x") ==
        "invalid filter \"name x\" at column 6: want an operator (==, !=, ~= or @=), \",\" or "
        "the end, found \"x\"");
  CHECK(Error("labels.\"abc") ==
        "invalid filter \"labels.\\\"abc\" at column 8: quoted text is not terminated");
  CHECK(Error("labels.\"a\\qb\"") ==
        "invalid filter \"labels.\\\"a\\\\qb\\\"\" at column 10: unknown escape \"\\q\"");
  CHECK(Error("labels.x==\"\\u12\"").find("at column 12: \\u wants 4 hexadecimal digits") !=
        std::string::npos);
  CHECK(Error("name~=(") ==
        "invalid filter \"name~=(\" at column 7: bad regular expression: missing ): (");
  CHECK(Error(".name").find("at column 1: want a field name") != std::string::npos);
  CHECK(Error("name==x,,name==y").find("at column 9: want a field name") != std::string::npos);
  CHECK(Error("labels.a#").find("at column 9: unexpected character") != std::string::npos);
  CHECK(Error(std::string("name==a\0b", 9)).find("at column 8: NUL byte") != std::string::npos);
  // The first bad string of several is the one reported.
  auto filter = Filter::Parse({"name==x", "nope"}, kSchema);
  REQUIRE_FALSE(filter.ok());
  CHECK(filter.status().message().find("\"nope\"") != std::string::npos);
}
