#include "engine/daemon/names.h"

#include <sys/random.h>

#include <array>
#include <regex>

#include "absl/strings/str_cat.h"

namespace berth::engine {
namespace {

constexpr std::array kAdjectives = {
    "admiring", "adoring",   "agitated", "amazing",  "angry",     "awesome",   "bold",
    "brave",    "busy",      "charming", "clever",   "cool",      "dazzling",  "determined",
    "eager",    "ecstatic",  "elegant",  "epic",     "festive",   "focused",   "friendly",
    "gallant",  "gifted",    "goofy",    "happy",    "hopeful",   "inspiring", "jolly",
    "keen",     "kind",      "loving",   "lucid",    "magical",   "modest",    "nice",
    "nifty",    "objective", "peaceful", "pensive",  "practical", "priceless", "quirky",
    "relaxed",  "romantic",  "serene",   "sharp",    "stoic",     "sweet",     "tender",
    "trusting", "upbeat",    "vibrant",  "wizardly", "youthful",  "zealous",   "zen"};
constexpr std::array kSurnames = {
    "albattani", "allen",   "babbage",    "bardeen",  "bell",     "bhabha",   "bohr",
    "borg",      "cannon",  "curie",      "darwin",   "dijkstra", "einstein", "euclid",
    "euler",     "fermat",  "feynman",    "franklin", "galileo",  "gauss",    "goldberg",
    "hamilton",  "hawking", "heisenberg", "hopper",   "hypatia",  "johnson",  "kepler",
    "knuth",     "lamport", "lovelace",   "mccarthy", "meitner",  "noether",  "newton",
    "pascal",    "pasteur", "ritchie",    "shannon",  "sinoussi", "tesla",    "thompson",
    "torvalds",  "turing",  "villani",    "wozniak",  "yalow",    "zhukovsky"};

uint64_t Random() {
  uint64_t v = 0;
  if (::getrandom(&v, sizeof v, 0) != sizeof v) v = static_cast<uint64_t>(::clock());
  return v;
}

}  // namespace

absl::Status ValidateContainerName(const std::string& name) {
  static const std::regex kValid("^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$");
  if (!std::regex_match(name, kValid)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Invalid container name (", name, "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"));
  }
  return absl::OkStatus();
}

std::string GenerateContainerName(int attempt) {
  uint64_t r = Random();
  std::string name = absl::StrCat(kAdjectives[r % kAdjectives.size()], "_",
                                  kSurnames[(r / kAdjectives.size()) % kSurnames.size()]);
  if (attempt > 0) absl::StrAppend(&name, (r >> 32) % 10);
  return name;
}

std::string GenerateContainerId() {
  unsigned char bytes[32];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

}  // namespace berth::engine
