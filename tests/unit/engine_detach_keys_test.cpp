#include <catch2/catch.hpp>

#include "engine/routes/detach_keys.h"

using berth::engine::DetachDetector;
using berth::engine::ParseDetachKeys;

TEST_CASE("detach keys: docker's spellings parse, others are refused") {
  CHECK(*ParseDetachKeys("") == "\x10\x11");
  CHECK(*ParseDetachKeys("ctrl-p,ctrl-q") == "\x10\x11");
  CHECK(*ParseDetachKeys("a,ctrl-@") == std::string("a\0", 2));
  CHECK(ParseDetachKeys("ctrl-1").status().message() == "Invalid detach keys (ctrl-1) provided");
  CHECK_FALSE(ParseDetachKeys("shift-a").ok());
}

TEST_CASE("detach keys: found across reads; a partial match is forwarded when it fails") {
  DetachDetector d("\x10\x11");
  bool detached = false;
  CHECK(d.Feed("ab\x10", &detached) == "ab");
  CHECK_FALSE(detached);
  CHECK(d.Feed("x", &detached) == "\x10x");  // ctrl-p alone reaches the container
  CHECK_FALSE(detached);
  CHECK(d.Feed("\x10\x10", &detached) == "\x10");
  CHECK(d.Feed("\x11trailing", &detached).empty());
  CHECK(detached);
}

TEST_CASE("detach keys: none (no tty) lets every byte through, NUL and the default keys too") {
  DetachDetector d("");
  bool detached = true;
  const std::string data(
      "a\0\x10\x11"
      "b",
      5);
  CHECK(d.Feed(data, &detached) == data);
  CHECK_FALSE(detached);
}
