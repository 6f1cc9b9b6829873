// One parsed HTTP request of the Docker Engine API, as the handlers see it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::engine::http {

struct Request {
  std::string method;       // "GET", "HEAD", "POST", "DELETE", "PUT"
  std::string target;       // raw request-target
  std::string path;         // percent-decoded path, "/v1.NN" prefix removed: "/containers/json"
  std::string api_version;  // "1.41" from the prefix; "" when unversioned
  std::multimap<std::string, std::string> query;  // decoded (Go's url.ParseQuery)
  // Every header as received, in order; use Header() to look one up.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::map<std::string, std::string> params;  // route captures

  // First value of the header, case-insensitive name; "" when absent.
  std::string Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;

  // First value of the query parameter; def when absent.
  std::string Query(std::string_view key, std::string_view def = "") const;
  bool HasQuery(std::string_view key) const;
  // Every value of the query parameter, in order (e.g. repeated "changes").
  std::vector<std::string> QueryAll(std::string_view key) const;
  // moby httputils.BoolValueOrDefault: def when the key is absent; otherwise false for
  // "", "0", "no", "false", "none" (trimmed, any case) and true for anything else.
  bool QueryBool(std::string_view key, bool def = false) const;
  // moby httputils.Int64ValueOrDefault: def when absent or empty; otherwise a base-10
  // int64, InvalidArgument ("strconv.ParseInt: parsing "x": invalid syntax") if it is not.
  absl::StatusOr<int64_t> QueryInt(std::string_view key, int64_t def) const;
};

// Percent-decoding of a URL path (no '+' rewriting). False on a bad %-escape.
bool DecodePath(std::string_view in, std::string* out);
// Go's url.ParseQuery: '&'-separated key=value pairs, '+' is a space, %-escapes decoded;
// pairs with a bad escape are skipped.
std::multimap<std::string, std::string> ParseQuery(std::string_view raw);
// Go's docker/api/types/versions compare: dot-separated numbers, missing parts are 0.
// Returns <0, 0, >0.
int CompareApiVersions(std::string_view a, std::string_view b);

}  // namespace berth::engine::http
