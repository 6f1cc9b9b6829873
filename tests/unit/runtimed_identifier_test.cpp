#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "highlevel-runtime/metadata/identifier.h"

using berth::runtimed::ValidateIdentifier;

TEST_CASE("identifiers: containerd's rule, letters and digits with single separators") {
  for (const std::string& good :
       std::vector<std::string>{"a", "A9", "9", "default", "k8s.io", "a.b_c-d", "moby",
                                "1700000000-0123abcd", std::string(76, 'a')}) {
    INFO(good);
    CHECK(ValidateIdentifier(good, "namespace").ok());
  }
  for (const std::string& bad : std::vector<std::string>{
           "", "-x", ".x", "_x", "x-", "x.", "a..b", "a-_b", "a b", "a/b", "a:b", "bad namespace!",
           "é", std::string("a\0b", 3), std::string(77, 'a')}) {
    INFO(bad);
    absl::Status st = ValidateIdentifier(bad, "lease id");
    CHECK(st.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(st.message()), Catch::StartsWith("invalid lease id \""));
    CHECK_THAT(std::string(st.message()),
               Catch::EndsWith("\": want letters and digits, single '.', '_' or '-' between them, "
                               "at most 76"));
  }
}

TEST_CASE("identifiers: the error names what was invalid, quoted and escaped") {
  CHECK(ValidateIdentifier("-x", "lease id").message() ==
        "invalid lease id \"-x\": want letters and digits, single '.', '_' or '-' between them, at "
        "most 76");
  CHECK(ValidateIdentifier("bad namespace!", "namespace").message() ==
        "invalid namespace \"bad namespace!\": want letters and digits, single '.', '_' or '-' "
        "between them, at most 76");
  CHECK_THAT(std::string(ValidateIdentifier("a\nb", "namespace").message()),
             Catch::StartsWith("invalid namespace \"a\\nb\":"));
  std::string long_id(500, 'a');
  CHECK_THAT(std::string(ValidateIdentifier(long_id, "namespace").message()),
             Catch::StartsWith("invalid namespace \"" + std::string(100, 'a') + "...\":"));
}
