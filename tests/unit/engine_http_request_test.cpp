// engine/http without a server: the request helpers, query and path decoding, routing.
#include <catch2/catch.hpp>
#include <string>

#include "engine/http/request.h"
#include "engine/http/router.h"

namespace http = berth::engine::http;

namespace {

http::Request WithQuery(std::string_view raw) {
  http::Request r;
  r.query = http::ParseQuery(raw);
  return r;
}

}  // namespace

TEST_CASE("ParseQuery decodes like Go's url.ParseQuery", "[engine_http]") {
  auto q = http::ParseQuery("all=1&filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D&x=a+b&flag&&e=");
  CHECK(q.count("all") == 1);
  CHECK(q.find("all")->second == "1");
  CHECK(q.find("filters")->second == R"({"label":["a=b"]})");
  CHECK(q.find("x")->second == "a b");
  CHECK(q.find("flag")->second == "");
  CHECK(q.find("e")->second == "");
  CHECK(q.size() == 5);

  auto repeated = WithQuery("changes=CMD+a&changes=ENV+b%3Dc");
  CHECK(repeated.QueryAll("changes") == std::vector<std::string>{"CMD a", "ENV b=c"});
  CHECK(repeated.Query("changes") == "CMD a");

  // A pair with a bad escape is skipped, the rest kept.
  auto bad = http::ParseQuery("a=%zz&b=2");
  CHECK(bad.count("a") == 0);
  CHECK(bad.find("b")->second == "2");
}

TEST_CASE("DecodePath percent-decodes and keeps '+'", "[engine_http]") {
  std::string out;
  REQUIRE(http::DecodePath("/images/127.0.0.1%3A5000%2Flib%2Fbusybox/json", &out));
  CHECK(out == "/images/127.0.0.1:5000/lib/busybox/json");
  REQUIRE(http::DecodePath("/a+b", &out));
  CHECK(out == "/a+b");
  CHECK_FALSE(http::DecodePath("/bad%2", &out));
  CHECK_FALSE(http::DecodePath("/bad%g0", &out));
}

TEST_CASE("Query and QueryBool follow moby's httputils", "[engine_http]") {
  auto r = WithQuery(
      "t1=1&t2=true&t3=True&t4=yes&t5=%20TRUE%20&t6=anything&f1=0&f2=false&f3=False&f4=no&"
      "f5=none&f6=&f7=%20NO%20");
  for (const char* k : {"t1", "t2", "t3", "t4", "t5", "t6"}) {
    INFO(k);
    CHECK(r.QueryBool(k));
    CHECK(r.QueryBool(k, false));
  }
  for (const char* k : {"f1", "f2", "f3", "f4", "f5", "f6", "f7"}) {
    INFO(k);
    CHECK_FALSE(r.QueryBool(k));
    CHECK_FALSE(r.QueryBool(k, true));  // present: the default does not apply
  }
  CHECK(r.QueryBool("absent", true));
  CHECK_FALSE(r.QueryBool("absent"));

  CHECK(r.Query("absent") == "");
  CHECK(r.Query("absent", "dflt") == "dflt");
  CHECK(r.Query("f6", "dflt") == "");
  CHECK(r.HasQuery("f6"));
  CHECK_FALSE(r.HasQuery("absent"));
}

TEST_CASE("QueryInt follows strconv.ParseInt", "[engine_http]") {
  auto r = WithQuery(
      "a=42&b=-7&c=%2B5&d=abc&e=&f=9223372036854775807&g=-9223372036854775808&"
      "h=9223372036854775808&i=1.5&j=%201");
  CHECK(r.QueryInt("a", 0).value() == 42);
  CHECK(r.QueryInt("b", 0).value() == -7);
  CHECK(r.QueryInt("c", 0).value() == 5);
  CHECK(r.QueryInt("e", 9).value() == 9);
  CHECK(r.QueryInt("absent", -1).value() == -1);
  CHECK(r.QueryInt("f", 0).value() == INT64_MAX);
  CHECK(r.QueryInt("g", 0).value() == INT64_MIN);
  auto bad = r.QueryInt("d", 0);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(bad.status().message() == "strconv.ParseInt: parsing \"abc\": invalid syntax");
  auto range = r.QueryInt("h", 0);
  REQUIRE_FALSE(range.ok());
  CHECK(range.status().message() ==
        "strconv.ParseInt: parsing \"9223372036854775808\": value out of range");
  CHECK_FALSE(r.QueryInt("i", 0).ok());
  CHECK_FALSE(r.QueryInt("j", 0).ok());
}

TEST_CASE("Header lookup is case-insensitive", "[engine_http]") {
  http::Request r;
  r.headers = {{"Content-Type", "application/json"},
               {"X-Registry-Auth", "abc"},
               {"x-dup", "1"},
               {"X-Dup", "2"}};
  CHECK(r.Header("content-type") == "application/json");
  CHECK(r.Header("X-REGISTRY-AUTH") == "abc");
  CHECK(r.Header("x-dup") == "1");
  CHECK(r.Header("Upgrade") == "");
  CHECK(r.HasHeader("UPGRADE") == false);
  CHECK(r.HasHeader("x-registry-auth"));
}

TEST_CASE("CompareApiVersions compares dotted numbers", "[engine_http]") {
  CHECK(http::CompareApiVersions("1.41", "1.41") == 0);
  CHECK(http::CompareApiVersions("1.12", "1.41") < 0);
  CHECK(http::CompareApiVersions("1.9", "1.41") < 0);
  CHECK(http::CompareApiVersions("1.47", "1.41") > 0);
  CHECK(http::CompareApiVersions("1.41.0", "1.41") == 0);
  CHECK(http::CompareApiVersions("2", "1.47") > 0);
  CHECK(http::CompareApiVersions("1.", "1.0") == 0);
}

TEST_CASE("Router matches captures, greedy names with a suffix, and methods", "[engine_http]") {
  http::Router router;
  std::string hit;
  auto tag = [&hit](std::string name) {
    return [&hit, name](http::Request&, http::ResponseWriter&) { hit = name; };
  };
  router.Add("GET", "/containers/json", tag("list"));
  router.Add("GET", "/containers/{id}/json", tag("inspect"));
  router.Add("POST", "/containers/{id}/start", tag("start"));
  router.Add("GET", "/images/{name:.*}/json", tag("image-inspect"));
  router.Add("DELETE", "/images/{name:.*}", tag("image-delete"));
  router.Add("GET", "/_ping", tag("ping"));
  router.Add("HEAD", "/_ping", tag("ping-head"));
  router.Add("GET", "/exec/{id}/json", tag("exec"));

  std::map<std::string, std::string> params;
  auto run = [&](const http::Handler* h) {
    hit.clear();
    if (h == nullptr) return std::string("<none>");
    http::Request r;
    struct NullWriter : http::ResponseWriter {
      void SetHeader(std::string, std::string) override {}
      void Send(int, std::string_view, std::string) override {}
      void BeginStream(int, std::string_view) override {}
      bool Write(std::string_view) override { return false; }
      void End() override {}
      absl::StatusOr<Hijacked> Hijack(std::string_view) override {
        return absl::UnimplementedError("");
      }
      bool ClientGone() override { return false; }
      bool Sent() const override { return false; }
    } w;
    (*h)(r, w);
    return hit;
  };

  CHECK(run(router.Find("GET", "/containers/json", &params)) == "list");
  CHECK(run(router.Find("GET", "/containers/abc123/json", &params)) == "inspect");
  CHECK(params == std::map<std::string, std::string>{{"id", "abc123"}});
  CHECK(run(router.Find("POST", "/containers/web/start", &params)) == "start");
  CHECK(params.at("id") == "web");

  CHECK(run(router.Find("GET", "/images/127.0.0.1:5000/lib/busybox:latest/json", &params)) ==
        "image-inspect");
  CHECK(params.at("name") == "127.0.0.1:5000/lib/busybox:latest");
  CHECK(run(router.Find("GET", "/images/busybox/json", &params)) == "image-inspect");
  CHECK(params.at("name") == "busybox");
  // Greedy: the last "/json" is the suffix.
  CHECK(run(router.Find("GET", "/images/a/json/json", &params)) == "image-inspect");
  CHECK(params.at("name") == "a/json");
  CHECK(run(router.Find("DELETE", "/images/reg:5000/x/y:1", &params)) == "image-delete");
  CHECK(params.at("name") == "reg:5000/x/y:1");

  // A plain capture is one non-empty segment.
  CHECK(run(router.Find("GET", "/containers/a/b/json", &params)) == "<none>");
  CHECK(run(router.Find("GET", "/containers//json", &params)) == "<none>");
  // Unknown paths, trailing slashes and other methods find nothing.
  CHECK(run(router.Find("GET", "/nope", &params)) == "<none>");
  CHECK(run(router.Find("GET", "/containers/json/", &params)) == "<none>");
  CHECK(run(router.Find("DELETE", "/containers/json", &params)) == "<none>");
  CHECK(run(router.Find("GET", "/containers/x/start", &params)) == "<none>");

  // HEAD: its own route first, else the GET route.
  CHECK(run(router.Find("HEAD", "/_ping", &params)) == "ping-head");
  CHECK(run(router.Find("HEAD", "/exec/e1/json", &params)) == "exec");
  CHECK(params.at("id") == "e1");
}
