#include "common/build_info.h"

#include <catch2/catch.hpp>
#include <regex>
#include <string>

TEST_CASE("version text has version, commit, build date and extras") {
  std::string text = berth::VersionText("berth-oci", {{"spec", "1.1.0"}});
  CHECK(std::regex_search(text, std::regex("^berth-oci version [0-9]+\\.[0-9]+\\.[0-9]+\n")));
  CHECK(std::regex_search(text, std::regex("\ncommit: ([0-9a-f]{12}(-dirty)?|unknown)\n")));
  CHECK(std::regex_search(text, std::regex("\nbuilt: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z")));
  CHECK(text.find("\nspec: 1.1.0") != std::string::npos);
  CHECK(text.back() != '\n');
}
