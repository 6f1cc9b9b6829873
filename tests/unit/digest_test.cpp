#include "common/digest.h"

#include <catch2/catch.hpp>
#include <string>

namespace {

constexpr char kEmptyHex[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kAbcHex[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

std::string Message(const absl::Status& st) { return std::string(st.message()); }

}  // namespace

TEST_CASE("Sha256Of matches the FIPS 180-2 vectors") {
  CHECK(berth::Sha256Of("").ToString() == std::string("sha256:") + kEmptyHex);
  CHECK(berth::Sha256Of("abc").ToString() == std::string("sha256:") + kAbcHex);
  CHECK(berth::Sha256Of("abc").algorithm == "sha256");
  CHECK(berth::Sha256Of("abc").hex == kAbcHex);
  // Bytes past a NUL count.
  CHECK(berth::Sha256Of(absl::string_view("a\0c", 3)).hex != kAbcHex);
}

TEST_CASE("Sha256 fed in pieces equals the one-shot digest, and resets after Finish") {
  std::string data;
  for (int i = 0; i < 100000; ++i) data += static_cast<char>('a' + i % 26);
  berth::Digest one_shot = berth::Sha256Of(data);

  berth::Sha256 hash;
  size_t pos = 0, step = 1;
  while (pos < data.size()) {
    size_t n = std::min(step, data.size() - pos);
    hash.Update(absl::string_view(data).substr(pos, n));
    pos += n;
    step = step * 3 + 1;  // uneven pieces, across block boundaries
  }
  CHECK(hash.Finish() == one_shot);

  // Finish reset the hasher: the next digest starts from nothing.
  hash.Update("abc");
  CHECK(hash.Finish().hex == kAbcHex);
  CHECK(hash.Finish().hex == kEmptyHex);
}

TEST_CASE("ParseDigest accepts sha256 with 64 lowercase hex digits") {
  auto d = berth::ParseDigest(std::string("sha256:") + kAbcHex);
  REQUIRE(d.ok());
  CHECK(d->algorithm == "sha256");
  CHECK(d->hex == kAbcHex);
  CHECK(*d == berth::Sha256Of("abc"));
}

TEST_CASE("ParseDigest refuses what is not sha256:<64 lowercase hex>") {
  std::string good = kAbcHex;
  struct Bad {
    std::string text;
    std::string why;
  };
  std::string upper = good;
  upper[10] = 'F';
  std::string nonhex = good;
  nonhex[63] = 'g';
  const Bad cases[] = {
      {"sha512:" + good, "unsupported algorithm \"sha512\""},
      {"SHA256:" + good, "unsupported algorithm \"SHA256\""},
      {":" + good, "unsupported algorithm \"\""},
      {good, "want \"sha256:\""},
      {"", "want \"sha256:\""},
      {"sha256:" + good.substr(0, 63), "got 63"},
      {"sha256:" + good + "0", "got 65"},
      {"sha256:", "got 0"},
      {"sha256:" + upper, "\"F\" at offset 10"},
      {"sha256:" + nonhex, "\"g\" at offset 63"},
      {"sha256:" + good.substr(0, 62) + "/x", "\"/\" at offset 62"},
      {"sha256: " + good.substr(1), "\" \" at offset 0"},
  };
  for (const Bad& c : cases) {
    INFO(c.text);
    auto d = berth::ParseDigest(c.text);
    REQUIRE_FALSE(d.ok());
    CHECK(d.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(Message(d.status()), Catch::StartsWith("invalid digest \"" + c.text + "\": "));
    CHECK_THAT(Message(d.status()), Catch::Contains(c.why));
  }
}

TEST_CASE("ParseDigest quotes control characters and cuts long input in its message") {
  auto d = berth::ParseDigest("sha256:\n\x01");
  REQUIRE_FALSE(d.ok());
  CHECK(Message(d.status()) ==
        "invalid digest \"sha256:\\n\\x01\": want 64 hex digits after "
        "\"sha256:\", got 2");
  auto long_one = berth::ParseDigest(std::string(10000, 'a'));
  REQUIRE_FALSE(long_one.ok());
  CHECK(Message(long_one.status()).size() < 300);
}
