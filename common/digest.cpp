#include "common/digest.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace berth {
namespace {

constexpr absl::string_view kSha256 = "sha256";
constexpr size_t kSha256HexLen = 64;
// Longer input is cut in error messages: a digest is never this long.
constexpr size_t kMaxQuoted = 100;

absl::Status Invalid(absl::string_view text, absl::string_view why) {
  std::string quoted = absl::CHexEscape(text.substr(0, kMaxQuoted));
  if (text.size() > kMaxQuoted) quoted += "...";
  return absl::InvalidArgumentError(absl::StrCat("invalid digest \"", quoted, "\": ", why));
}

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// EVP fails only when OpenSSL cannot allocate or is broken: nothing a caller
// could handle, and continuing would verify content against garbage.
void CheckEvp(int ok, const char* what) {
  if (ok != 1) {
    std::fprintf(stderr, "berth: OpenSSL %s failed\n", what);
    std::abort();
  }
}

}  // namespace

absl::StatusOr<Digest> ParseDigest(absl::string_view text) {
  size_t colon = text.find(':');
  if (colon == absl::string_view::npos) {
    return Invalid(text, "want \"sha256:\" followed by 64 lowercase hex digits");
  }
  absl::string_view algorithm = text.substr(0, colon);
  absl::string_view hex = text.substr(colon + 1);
  if (algorithm != kSha256) {
    return Invalid(text, absl::StrCat("unsupported algorithm \"", absl::CHexEscape(algorithm),
                                      "\" (only sha256 is supported)"));
  }
  if (hex.size() != kSha256HexLen) {
    return Invalid(text, absl::StrCat("want 64 hex digits after \"sha256:\", got ", hex.size()));
  }
  for (size_t i = 0; i < hex.size(); ++i) {
    if (!IsLowerHex(hex[i])) {
      return Invalid(
          text, absl::StrCat("character \"", absl::CHexEscape(hex.substr(i, 1)), "\" at offset ", i,
                             " of the hex part is not a lowercase hex digit"));
    }
  }
  return Digest{std::string(algorithm), std::string(hex)};
}

struct Sha256::State {
  EVP_MD_CTX* ctx = nullptr;
  ~State() { EVP_MD_CTX_free(ctx); }
  void Init() { CheckEvp(EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr), "EVP_DigestInit_ex"); }
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  state_->ctx = EVP_MD_CTX_new();
  if (state_->ctx == nullptr) CheckEvp(0, "EVP_MD_CTX_new");
  state_->Init();
}

Sha256::~Sha256() = default;

void Sha256::Update(absl::string_view data) {
  if (data.empty()) return;
  CheckEvp(EVP_DigestUpdate(state_->ctx, data.data(), data.size()), "EVP_DigestUpdate");
}

Digest Sha256::Finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  CheckEvp(EVP_DigestFinal_ex(state_->ctx, md, &len), "EVP_DigestFinal_ex");
  state_->Init();
  std::string raw(reinterpret_cast<const char*>(md), len);
  return Digest{std::string(kSha256), absl::BytesToHexString(raw)};
}

Digest Sha256Of(absl::string_view data) {
  Sha256 hash;
  hash.Update(data);
  return hash.Finish();
}

}  // namespace berth
