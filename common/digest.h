// Content digests as OCI writes them ("sha256:<64 lowercase hex>"), and a
// streaming SHA-256 (OpenSSL EVP) to verify content while it is written.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth {

struct Digest {
  std::string algorithm;  // "sha256" (the only one accepted)
  std::string hex;        // 64 lowercase hex digits

  std::string ToString() const { return algorithm + ":" + hex; }
  bool operator==(const Digest& other) const {
    return algorithm == other.algorithm && hex == other.hex;
  }
};

// Parses and validates "sha256:<hex>"; InvalidArgument names what is wrong.
absl::StatusOr<Digest> ParseDigest(absl::string_view text);

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(absl::string_view data);
  // The digest of everything Update()d; the hasher is reset afterwards.
  Digest Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

Digest Sha256Of(absl::string_view data);

}  // namespace berth
