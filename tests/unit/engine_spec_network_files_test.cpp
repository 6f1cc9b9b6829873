// The hostname, hosts and resolv.conf files dockerd writes for a container.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "common/fd_util.h"
#include "engine/spec/network_files.h"

namespace spec = berth::engine::spec;

namespace {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/berth-spec-net-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

constexpr char kDockerHosts[] =
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "ff00::0\tip6-mcastprefix\n"
    "ff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n";

std::string Read(const std::string& path) {
  auto content = berth::ReadFileToString(path);
  REQUIRE(content.ok());
  return *content;
}

}  // namespace

TEST_CASE("network files: --network none is Docker's hosts, the host's DNS filtered") {
  TempDir host, dir;
  REQUIRE(
      berth::WriteStringToFile(host.path + "/resolv.conf",
                               "# from the host\nsearch example.com\nnameserver 10.0.0.2\n"
                               "nameserver 127.0.0.53\nnameserver 2001:db8::1\noptions ndots:2\n")
          .ok());
  spec::NetworkFilesOptions options;
  options.hostname = "4f2b8ac1e35d";
  options.network_mode = "none";
  options.host_resolv_conf = host.path + "/resolv.conf";
  REQUIRE(spec::WriteNetworkFiles(dir.path, options).ok());
  CHECK(Read(dir.path + "/hostname") == "4f2b8ac1e35d\n");
  CHECK(Read(dir.path + "/hosts") == kDockerHosts);
  CHECK(Read(dir.path + "/resolv.conf") ==
        "# from the host\nsearch example.com\nnameserver 10.0.0.2\noptions ndots:2\n");
  struct stat st {};
  REQUIRE(::stat((dir.path + "/hosts").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0644);
  CHECK_FALSE(std::filesystem::exists(dir.path + "/hosts.tmp"));
}

TEST_CASE("network files: the simple form writes the same three files") {
  TempDir dir;
  REQUIRE(spec::WriteNetworkFiles(dir.path, "web", "none").ok());
  CHECK(Read(dir.path + "/hostname") == "web\n");
  CHECK(Read(dir.path + "/hosts") == kDockerHosts);
  CHECK(std::filesystem::exists(dir.path + "/resolv.conf"));
  CHECK(spec::WriteNetworkFiles(dir.path + "/missing", "web", "none").code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("network files: only localhost nameservers leaves Google's") {
  CHECK(spec::FilterResolvConf("nameserver 127.0.0.1\nsearch lan\n", false) ==
        "search lan\n\nnameserver 8.8.8.8\nnameserver 8.8.4.4");
  CHECK(spec::FilterResolvConf("nameserver ::1\n", true) ==
        "\nnameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver 2001:4860:4860::8888\n"
        "nameserver 2001:4860:4860::8844");
  CHECK(spec::FilterResolvConf("nameserver 2001:db8::1\nnameserver 1.1.1.1", true) ==
        "nameserver 2001:db8::1\nnameserver 1.1.1.1");
  CHECK(spec::FilterResolvConf("", false) == "\nnameserver 8.8.8.8\nnameserver 8.8.4.4");
}

TEST_CASE("network files: host mode copies the host's files") {
  TempDir host, dir;
  REQUIRE(berth::WriteStringToFile(host.path + "/resolv.conf", "nameserver 127.0.0.1\n").ok());
  REQUIRE(
      berth::WriteStringToFile(host.path + "/hosts", "127.0.0.1 localhost\n10.1.1.1 db\n").ok());
  spec::NetworkFilesOptions options;
  options.hostname = "buildhost";
  options.network_mode = "host";
  options.host_resolv_conf = host.path + "/resolv.conf";
  options.host_hosts = host.path + "/hosts";
  REQUIRE(spec::WriteNetworkFiles(dir.path, options).ok());
  CHECK(Read(dir.path + "/resolv.conf") == "nameserver 127.0.0.1\n");
  CHECK(Read(dir.path + "/hosts") == "127.0.0.1 localhost\n10.1.1.1 db\n");
  CHECK(Read(dir.path + "/hostname") == "buildhost\n");
}

TEST_CASE("network files: an address, a domain, extra hosts and DNS options") {
  TempDir host, dir;
  REQUIRE(berth::WriteStringToFile(host.path + "/resolv.conf",
                                   "search corp\nnameserver 10.0.0.2\noptions rotate\n")
              .ok());
  spec::NetworkFilesOptions options;
  options.hostname = "web";
  options.domainname = "example.com";
  options.network_mode = "bridge";
  options.ip = "172.17.0.2";
  options.extra_hosts = {"db:10.0.0.5", "v6:2001:db8::5"};
  options.dns = {"1.1.1.1", "9.9.9.9"};
  options.host_resolv_conf = host.path + "/resolv.conf";
  REQUIRE(spec::WriteNetworkFiles(dir.path, options).ok());
  CHECK(Read(dir.path + "/hostname") == "web.example.com\n");
  CHECK(Read(dir.path + "/hosts") ==
        std::string(kDockerHosts) +
            "10.0.0.5\tdb\n2001:db8::5\tv6\n172.17.0.2\tweb.example.com web\n");
  // The host's search and options stay unless given.
  CHECK(Read(dir.path + "/resolv.conf") ==
        "search corp\nnameserver 1.1.1.1\nnameserver 9.9.9.9\noptions rotate\n");
  CHECK(spec::BuildResolvConf({"8.8.8.8"}, {"."}, {"ndots:1"}) ==
        "nameserver 8.8.8.8\noptions ndots:1\n");
}

TEST_CASE("network files: a host without resolv.conf still gets nameservers") {
  TempDir host, dir;
  spec::NetworkFilesOptions options;
  options.hostname = "x";
  options.host_resolv_conf = host.path + "/absent";
  REQUIRE(spec::WriteNetworkFiles(dir.path, options).ok());
  CHECK(Read(dir.path + "/resolv.conf") == "\nnameserver 8.8.8.8\nnameserver 8.8.4.4");
}
