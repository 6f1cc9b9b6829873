// List filters in containerd's syntax (its "filters" package), for
// Images.List and Containers.List:
//
//   filter    := selector ("," selector)*        every selector must match
//   selector  := fieldpath [operator value]      no operator: the field is present
//   fieldpath := field ("." field)*
//   field     := quoted | [A-Za-z0-9_-]+
//   operator  := "==" | "!=" | "~=" | "@="       equal, not equal, RE2 search, contains
//   value     := quoted | anything up to the next "," or space
//   quoted    := "..." | /.../ | |...|           Go escapes (\" \\ \n \t \xHH \uHHHH ...)
//
// Several filter strings are alternatives: an object matches if any does; no
// strings, or an empty one, match everything. Spaces between tokens are
// ignored. "labels.a.b" and labels."a.b" both name the label "a.b". As in
// containerd, "!=" matches an absent field (its value is ""). Unlike
// containerd, which matches nothing on a field it does not know, Parse
// refuses an unknown field path, and inside /.../ or |...| a backslash before
// a character that is no escape stays as written (/\d+/ is the RE2 \d+).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"

namespace re2 {
class RE2;
}

namespace berth::runtimed {

class FilterParser;

// The fields of one kind of object, for Parse to refuse others.
struct FilterSchema {
  // "images": used in messages.
  std::string kind;
  // Dot-joined field paths ("name", "target.digest"); "labels.KEY" is always
  // known.
  std::vector<std::string> fields;
};

class Filter {
 public:
  // A parsed field path: its fields, except that the label key after
  // "labels" is one element ("labels", "com.example.tier").
  using FieldPath = std::vector<std::string>;
  // The object's value at a field path; nullopt when it has none.
  using Lookup = absl::FunctionRef<std::optional<std::string>(const FieldPath&)>;

  // InvalidArgument, naming the filter, the column (1-based, in bytes) and
  // what is wrong there, for a syntax error, an unknown field, a regular
  // expression RE2 refuses.
  static absl::StatusOr<Filter> Parse(const std::vector<std::string>& filters,
                                      const FilterSchema& schema);

  bool Matches(Lookup lookup) const;

  // The value of a label as a Lookup answers it: `labels` is a map of
  // strings (a protobuf map or a std::map).
  template <typename Map>
  static std::optional<std::string> Label(const Map& labels, const FieldPath& path) {
    if (path.size() != 2 || path[0] != "labels") return std::nullopt;
    auto it = labels.find(path[1]);
    if (it == labels.end()) return std::nullopt;
    return std::string(it->second);
  }

 private:
  friend class FilterParser;
  enum class Op { kPresent, kEqual, kNotEqual, kMatches, kContains };
  struct Selector {
    FieldPath path;
    Op op = Op::kPresent;
    std::string value;
    std::shared_ptr<const re2::RE2> regexp;  // for kMatches
  };
  using Conjunction = std::vector<Selector>;

  static bool Matches(const Selector& selector, Lookup lookup);

  std::vector<Conjunction> any_;  // empty: everything
};

}  // namespace berth::runtimed
