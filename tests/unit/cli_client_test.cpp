// The CLI's protocol pieces: attach stream framing, pull progress rendering,
// image references, API versions and query strings, ps/images rows.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "cli/formatter.h"
#include "cli/json_message.h"
#include "cli/reference.h"
#include "cli/stream.h"

using namespace berth::cli;

namespace {

std::string Frame(int stream, const std::string& payload) {
  std::string f(8, '\0');
  f[0] = static_cast<char>(stream);
  auto n = static_cast<uint32_t>(payload.size());
  f[4] = static_cast<char>((n >> 24) & 0xFF);
  f[5] = static_cast<char>((n >> 16) & 0xFF);
  f[6] = static_cast<char>((n >> 8) & 0xFF);
  f[7] = static_cast<char>(n & 0xFF);
  return f + payload;
}

}  // namespace

TEST_CASE("demux: frames split anywhere across reads") {
  std::string wire =
      Frame(1, "hello\n") + Frame(2, "oops\n") + Frame(1, "") + Frame(1, std::string(70000, 'x'));
  for (size_t chunk :
       {size_t{1}, size_t{3}, size_t{7}, size_t{8}, size_t{9}, size_t{4096}, wire.size()}) {
    std::string out, err;
    StreamDemuxer d([&](int s, std::string_view data) {
      (s == 2 ? err : out).append(data);
      return absl::OkStatus();
    });
    for (size_t i = 0; i < wire.size(); i += chunk) {
      REQUIRE(d.Feed(std::string_view(wire).substr(i, chunk)).ok());
    }
    CHECK(d.AtFrameBoundary());
    CHECK(out == "hello\n" + std::string(70000, 'x'));
    CHECK(err == "oops\n");
  }
}

TEST_CASE("demux: stdin frames go to stdout, a system error ends the stream") {
  std::string out;
  StreamDemuxer d([&](int s, std::string_view data) {
    if (s == 1) out.append(data);
    return absl::OkStatus();
  });
  CHECK(d.Feed(Frame(0, "in")).ok());
  CHECK(out == "in");
  auto st = d.Feed(Frame(3, "boom"));
  CHECK_FALSE(st.ok());
  CHECK(st.message() == "boom");
  CHECK_FALSE(d.Feed(Frame(9, "x")).ok());
}

TEST_CASE("json messages: docker's pull output without a terminal") {
  std::string out;
  JsonMessageRenderer r([&](std::string_view s) { out.append(s); }, false);
  std::string stream =
      "{\"status\":\"Pulling from library/busybox\",\"id\":\"latest\"}\r\n"
      "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"c5aeb924420c\"}\r\n"
      "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":100,\"total\":2000},"
      "\"progress\":\"[=>   ]\",\"id\":\"c5aeb924420c\"}\r\n"
      "{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"c5aeb924420c\"}\r\n"
      "{\"status\":\"Digest: sha256:0723\"}\r\n"
      "{\"status\":\"Status: Downloaded newer image for busybox:latest\"}\r\n";
  // Fed in odd pieces: messages split across reads.
  for (size_t i = 0; i < stream.size(); i += 13) REQUIRE(r.Feed(stream.substr(i, 13)).ok());
  REQUIRE(r.Finish().ok());
  CHECK(out ==
        "latest: Pulling from library/busybox\n"
        "c5aeb924420c: Pulling fs layer\n"
        "c5aeb924420c: Pull complete\n"
        "Digest: sha256:0723\n"
        "Status: Downloaded newer image for busybox:latest\n");
}

TEST_CASE("json messages: an error message is the stream's error") {
  std::string out;
  JsonMessageRenderer r([&](std::string_view s) { out.append(s); }, false);
  auto st = r.Feed(
      "{\"errorDetail\":{\"message\":\"manifest unknown\"},\"error\":\"manifest unknown\"}\n");
  CHECK_FALSE(st.ok());
  CHECK(st.message() == "manifest unknown");
}

TEST_CASE("json messages: on a terminal each layer keeps its line") {
  std::string out;
  JsonMessageRenderer r([&](std::string_view s) { out.append(s); }, true, 80);
  REQUIRE(r.Feed("{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"a\"}\n"
                 "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1000,\"total\":2000},"
                 "\"id\":\"a\"}\n")
              .ok());
  CHECK(out ==
        "\n\x1b[1A\r\x1b[2K\ra: Pulling fs layer \r\x1b[1B"
        "\x1b[1A\r\x1b[2K\ra: Downloading      1kB/2kB\r\x1b[1B");
}

TEST_CASE("references: normalized and familiar names") {
  auto r = ParseNormalizedNamed("busybox");
  REQUIRE(r.ok());
  CHECK(r->String() == "docker.io/library/busybox");
  CHECK(r->WithDefaultTag().FamiliarString() == "busybox:latest");
  CHECK(r->WithDefaultTag().String() == "docker.io/library/busybox:latest");
  auto local = ParseNormalizedNamed("127.0.0.1:5000/busybox:1.36");
  REQUIRE(local.ok());
  CHECK(local->domain == "127.0.0.1:5000");
  CHECK(local->tag == "1.36");
  CHECK(local->FamiliarName() == "127.0.0.1:5000/busybox");
  auto user = ParseNormalizedNamed("docker.io/someone/app@sha256:" + std::string(64, 'a'));
  REQUIRE(user.ok());
  CHECK(user->FamiliarString() == "someone/app@sha256:" + std::string(64, 'a'));
  CHECK(ParseNormalizedNamed("localhost/x")->domain == "localhost");
  CHECK(ParseNormalizedNamed("Busybox").status().message() ==
        "invalid reference format: repository name must be lowercase");
  CHECK_FALSE(ParseNormalizedNamed("busy box").ok());
  CHECK_FALSE(ParseNormalizedNamed("").ok());
  CHECK(TruncateId("sha256:5a524d6d46e862e655f0e6137420bfbb") == "5a524d6d46e8");
  CHECK(TruncateId("42115cd7fc80fd166da0") == "42115cd7fc80");
}

TEST_CASE("api client: versions, queries, daemon errors, hosts") {
  CHECK(CompareApiVersions("1.41", "1.47") < 0);
  CHECK(CompareApiVersions("1.9", "1.41") < 0);
  CHECK(CompareApiVersions("1.47", "1.47") == 0);
  CHECK(EncodeQuery({{"filters", "{\"status\":{\"running\":true}}"}, {"all", "1"}}) ==
        "filters=%7B%22status%22%3A%7B%22running%22%3Atrue%7D%7D&all=1");
  ApiResponse resp;
  resp.status = 404;
  resp.body = "{\"message\":\"No such container: x\"}";
  auto st = DaemonError(resp);
  CHECK(st.code() == absl::StatusCode::kNotFound);
  CHECK(st.message() == "Error response from daemon: No such container: x");
  resp.status = 500;
  resp.body = "plain text\n";
  CHECK(DaemonError(resp).message() == "Error response from daemon: plain text");
  CHECK(ApiClient::Create("unix:///run/x.sock").ok());
  CHECK(ApiClient::Create("tcp://127.0.0.1:2375").ok());
  CHECK_FALSE(ApiClient::Create("ssh://host").ok());
  auto refused = ApiClient::Create("unix:///nonexistent/berth.sock");
  REQUIRE(refused.ok());
  auto ping = refused->Negotiate();
  CHECK(ping.message() ==
        "Cannot connect to the berth daemon at unix:///nonexistent/berth.sock. Is the berth "
        "daemon running?");
}

TEST_CASE("ps rows: docker's columns") {
  auto c = OrderedJson::parse(R"({
    "Id": "42115cd7fc80fd166da0b64f2aa6803bfdaf6c960155f924b614cf8073d39c62",
    "Names": ["/web"], "Image": "busybox", "ImageID": "sha256:5a52",
    "Command": "sh -c 'trap \"exit 0\" TERM; while :; do sleep 0.1; done'",
    "Created": 1000, "State": "exited", "Status": "Exited (0) 2 seconds ago",
    "Ports": [{"PrivatePort": 80, "Type": "tcp"}, {"IP": "0.0.0.0", "PrivatePort": 443,
               "PublicPort": 8443, "Type": "tcp"}],
    "Labels": {"b": "2", "a": "1"}, "Mounts": [],
    "NetworkSettings": {"Networks": {"none": {}}}})");
  FormatRow row = ContainerRow(c, true, 1120);
  CHECK(row.fields["ID"] == "42115cd7fc80");
  CHECK(row.fields["Names"] == "web");
  CHECK(row.fields["Command"] == "\"sh -c 'trap \\\"exit 0…\"");
  CHECK(row.fields["RunningFor"] == "2 minutes ago");
  CHECK(row.fields["Labels"] == "a=1,b=2");
  CHECK(row.fields["Ports"] == "80/tcp, 0.0.0.0:8443->443/tcp");
  CHECK(row.fields["Networks"] == "none");
  ListFormat lf{ContainerFormat("", false, false), ContainerHeader(),
                "*formatter.ContainerContext"};
  auto out = RenderList(lf, {row});
  REQUIRE(out.ok());
  CHECK(
      *out ==
      "CONTAINER ID   IMAGE     COMMAND                   CREATED         STATUS                   "
      "  PORTS                           NAMES\n"
      "42115cd7fc80   busybox   \"sh -c 'trap \\\"exit 0…\"   2 minutes ago   Exited (0) 2 seconds "
      "ago"
      "   80/tcp, 0.0.0.0:8443->443/tcp   web\n");
  lf.format = "table {{.ID}}\t{{.Label \"a\"}}\t{{.Label \"com.x.my-label\"}}";
  out = RenderList(lf, {row});
  REQUIRE(out.ok());
  CHECK(*out == "CONTAINER ID   a         my label\n42115cd7fc80   1         \n");
  lf.format = "{{.Nope}}";
  CHECK(RenderList(lf, {row}).status().message() ==
        "template parsing error: template: :1:2: executing \"\" at <.Nope>: can't evaluate field "
        "Nope in type *formatter.ContainerContext");
  lf.format = "json";
  out = RenderList(lf, {row});
  REQUIRE(out.ok());
  CHECK(out->rfind("{\"Command\":", 0) == 0);
  CHECK(out->back() == '\n');
  lf.format = ContainerFormat("", true, false);
  CHECK(*RenderList(lf, {row}) == "42115cd7fc80\n");
  CHECK(*RenderList(ListFormat{ContainerFormat("", false, false), ContainerHeader(), ""}, {}) ==
        "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n");
}

TEST_CASE("images rows: one per repository:tag, <none> for dangling images") {
  auto img = OrderedJson::parse(R"({
    "Id": "sha256:5a524d6d46e862e655f0e6137420bfbb70cf6019ce75270d1ea4c6572f0645af",
    "RepoTags": ["busybox:latest", "127.0.0.1:5000/busybox:latest", "busybox:1"],
    "RepoDigests": ["busybox@sha256:072375f03fcf0b583cb703bac1bbbaf217f34a9b5886501ac6ab2a63a00d58cd"],
    "Created": 0, "Size": 1984000, "SharedSize": -1, "Containers": -1})");
  auto rows = ImageRows(img, true, false, "", 86400LL * 365 * 56 + 86400 * 20);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].fields["Repository"] == "busybox");
  CHECK(rows[0].fields["Tag"] == "latest");
  CHECK(rows[0].fields["ID"] == "5a524d6d46e8");
  CHECK(rows[0].fields["Size"] == "1.98MB");
  CHECK(rows[0].fields["CreatedSince"] == "56 years ago");
  CHECK(rows[1].fields["Tag"] == "1");
  CHECK(rows[2].fields["Repository"] == "127.0.0.1:5000/busybox");
  auto with_digests = ImageRows(img, true, true, "", 0);
  CHECK(with_digests[0].fields["Digest"] ==
        "sha256:072375f03fcf0b583cb703bac1bbbaf217f34a9b5886501ac6ab2a63a00d58cd");
  CHECK(with_digests[2].fields["Digest"] == "<none>");
  auto dangling = ImageRows(OrderedJson::parse(R"({"Id":"sha256:ab","RepoTags":[],"Size":0})"),
                            true, false, "", 0);
  REQUIRE(dangling.size() == 1);
  CHECK(dangling[0].fields["Repository"] == "<none>");
  CHECK(ImageFormat("", false, true).find("{{.Digest}}") != std::string::npos);
}
