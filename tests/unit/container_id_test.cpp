#include "common/container_id.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace {

std::string Message(const absl::Status& st) { return std::string(st.message()); }

}  // namespace

TEST_CASE("container ids: runc's characters, not starting with '.' or '-'") {
  for (const std::string& good : std::vector<std::string>{
           "web-1_a.b+c", "a", "A9", "9", "_x", "+x", "x.", "x-", "a..b", std::string(1024, 'a')}) {
    INFO(good);
    CHECK(berth::ValidateContainerId(good).ok());
  }
  for (const std::string& bad : std::vector<std::string>{
           "", ".", "..", ".hidden", ".seccomp-cache", "-x", "--help", "a/b", "../x", "a b", "a:b",
           "é", std::string("a\0b", 3), std::string(1025, 'a')}) {
    INFO(bad);
    absl::Status st = berth::ValidateContainerId(bad);
    CHECK(st.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(Message(st), Catch::StartsWith("invalid container id \""));
    CHECK_THAT(Message(st), Catch::EndsWith("\": want 1 to 1024 letters, digits, '_', '+', '-' or "
                                            "'.', not starting with '.' or '-'"));
  }
}

TEST_CASE("container id errors are one line and quote the id escaped and cut") {
  CHECK(Message(berth::ValidateContainerId("a/b")) ==
        "invalid container id \"a/b\": want 1 to 1024 letters, digits, '_', '+', '-' or '.', not "
        "starting with '.' or '-'");
  std::string escaped = Message(berth::ValidateContainerId("a\nb\x01"));
  CHECK_THAT(escaped, Catch::StartsWith("invalid container id \"a\\nb\\x01\": "));
  CHECK(escaped.find('\n') == std::string::npos);
  std::string long_one = Message(berth::ValidateContainerId(std::string(5000, 'a') + "/"));
  CHECK(long_one.size() < 300);
  CHECK_THAT(long_one,
             Catch::StartsWith("invalid container id \"" + std::string(100, 'a') + "...\": "));
}
