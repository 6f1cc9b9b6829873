// Go's encoding/json and strconv spellings the docker CLI prints: compact
// marshaling (the `json` template function), json.Indent (docker inspect),
// strconv.Quote (the COMMAND column) and the formatter's Ellipsis.
#pragma once

#include <string>
#include <string_view>

#include "nlohmann/json.hpp"

namespace berth::cli {

using OrderedJson = nlohmann::ordered_json;

// json.Marshal of the value as Go would encode it, compact. Object keys keep
// their order (an ordered_json parsed from the daemon keeps Go's struct order).
// escape_html: Go's default \u003c \u003e \u0026 for < > &.
std::string GoJsonMarshal(const OrderedJson& value, bool escape_html = false);

// Go's float encoding in JSON: shortest, 'e' form below 1e-6 and from 1e21.
std::string GoJsonFloat(double value);

// json.Indent(dst, src, prefix, indent) on raw JSON text: keeps the daemon's
// key order and string escapes, drops insignificant whitespace, keeps empty
// {} and [] compact. Returns src unchanged if it is not well-formed.
std::string GoJsonIndent(std::string_view src, std::string_view prefix, std::string_view indent);

// strconv.Quote: "…" with Go escapes; printable non-ASCII runes stay as is.
std::string GoQuote(std::string_view s);

// formatter.Ellipsis: s if it has at most max_width runes, else its first
// max_width-1 runes and "…".
std::string Ellipsis(std::string_view s, int max_width);

}  // namespace berth::cli
