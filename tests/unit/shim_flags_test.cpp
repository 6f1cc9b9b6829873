#include "shim/shim_flags.h"

#include <catch2/catch.hpp>

TEST_CASE("shim parses containerd's Go-style flags") {
  auto f = berth::shim::ParseShimFlags({"-namespace", "k8s.io", "-address=/run/c.sock",
                                        "-publish-binary", "/usr/bin/containerd", "-id", "abc",
                                        "--bundle", "/b", "-debug", "start"});
  REQUIRE(f.ok());
  CHECK(f->namespace_name == "k8s.io");
  CHECK(f->address == "/run/c.sock");
  CHECK(f->publish_binary == "/usr/bin/containerd");
  CHECK(f->id == "abc");
  CHECK(f->bundle == "/b");
  CHECK(f->debug);
  CHECK(f->action == "start");
}

TEST_CASE("shim flag errors read like Go's flag package") {
  CHECK(berth::shim::ParseShimFlags({"-bogus"}).status().message() ==
        "flag provided but not defined: -bogus");
  CHECK(berth::shim::ParseShimFlags({"-id"}).status().message() == "flag needs an argument: -id");
  CHECK(berth::shim::ParseShimFlags({"explode"}).status().message() ==
        "unknown action \"explode\"");
  CHECK(berth::shim::ParseShimFlags({"-debug=maybe"}).status().message() ==
        "invalid boolean value \"maybe\" for -debug");
  CHECK(berth::shim::ParseShimFlags({"-v"})->version);
}
