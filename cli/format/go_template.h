// Go text/template, the subset docker users write in --format / -f, over JSON
// data: fields (nested, map keys), variables, pipelines, parenthesized
// commands, if/else if/else, range (with else, break, continue), with, the Go
// builtins (and or not len index slice eq ne lt le gt ge print printf println
// html js urlquery) and docker's (json split join title lower upper pad
// truncate). Errors are worded as Go words them:
//   template: :1: function "foo" not defined
//   template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo"
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace berth::cli::tmpl {

using Json = nlohmann::ordered_json;

// A template value. `missing` is Go's invalid value (a map key that is not
// there), printed "<no value>"; a JSON null prints "<nil>".
struct Value {
  Json v;
  bool missing = false;

  static Value Missing() { return Value{Json(), true}; }
};

using Func = std::function<absl::StatusOr<Value>(const std::vector<Value>& args)>;
using FuncMap = std::map<std::string, Func, std::less<>>;

// Methods with arguments on the data (docker ps's {{.Label "k"}}): returns
// nullopt when `name` is not a method of `receiver`.
using MethodHook = std::function<std::optional<absl::StatusOr<Value>>(
    const Value& receiver, std::string_view name, const std::vector<Value>& args)>;

enum class MissingKey {
  kDefault,  // "<no value>"
  kError,    // map has no entry for key "X" (docker inspect's raw fallback)
};

struct ExecOptions {
  MissingKey missing_key = MissingKey::kDefault;
  // When set, the data is a Go struct of this type: an unknown field of the
  // top-level object is "can't evaluate field X in type <root_type>".
  std::string root_type;
  MethodHook methods;
  // Keys that are nil (not errors) when missing from an object: the omitempty
  // fields of docker's typed structs.
  const std::set<std::string>* nil_keys = nullptr;
  // Functions that replace the template's own for this execution (docker's
  // HeaderFunctions for table headers).
  const FuncMap* override_funcs = nullptr;
};

struct Node;

class Template {
 public:
  // Parses `text`. `extra` adds functions (docker version's getDetailsOrder).
  static absl::StatusOr<Template> Parse(std::string_view text, std::string name = "",
                                        const FuncMap& extra = {});

  // Appends the output to *out; on error the output written so far stays.
  absl::Status Execute(const Json& data, std::string* out, const ExecOptions& opts = {}) const;

  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;
  ~Template();

 private:
  Template();
  std::string name_;
  std::string text_;
  FuncMap funcs_;
  std::unique_ptr<Node> root_;
};

// The builtins plus docker's basic functions.
const FuncMap& DefaultFuncs();
// docker's HeaderFunctions (identity json/split/join/title/lower/upper/truncate).
const FuncMap& HeaderFuncs();

// fmt.Sprint of a value as text/template prints it: strings as is, [a b],
// map[k:v], <nil>, <no value>.
std::string PrintValue(const Value& v);

// Go's truth: false, 0, "", empty array/map, nil and missing are false.
bool IsTrue(const Value& v);

}  // namespace berth::cli::tmpl
