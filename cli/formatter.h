// docker's cli/command/formatter: --format "table …" / "json" / a Go template
// over a list of rows, with the table header rendered from the same template
// against a header map (ID -> "CONTAINER ID") and Go tabwriter alignment;
// plus the rows docker ps and docker images print.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/format/go_template.h"
#include "nlohmann/json.hpp"

namespace berth::cli {

using OrderedJson = nlohmann::ordered_json;

struct FormatRow {
  OrderedJson fields;  // the context's fields (ID, Names, …)
  OrderedJson labels;  // for {{.Label "k"}}
};

struct ListFormat {
  std::string format;     // "table {{.ID}}\t…", "json", or a template
  OrderedJson header;     // field -> column title
  std::string root_type;  // "*formatter.ContainerContext": unknown fields are errors
};

// Renders rows as docker's formatter.Context.Write does. Errors:
// "template parsing error: template: …".
absl::StatusOr<std::string> RenderList(const ListFormat& fmt, const std::vector<FormatRow>& rows);

// Replaces the two-character sequences \t and \n with a tab and a newline
// and trims spaces (docker's preFormat).
std::string PreFormat(std::string_view format);

// docker ps: the container list's rows (trunc: no --no-trunc).
FormatRow ContainerRow(const OrderedJson& c, bool trunc, int64_t now = -1);
OrderedJson ContainerHeader();
// docker ps's format for the flags: table default, -q, custom.
std::string ContainerFormat(const std::string& format, bool quiet, bool size);

// docker images: one image's rows (one per repository:tag, <none>:<none> for
// dangling images).
std::vector<FormatRow> ImageRows(const OrderedJson& img, bool trunc, bool digests,
                                 const std::string& format, int64_t now = -1);
OrderedJson ImageHeader();
std::string ImageFormat(const std::string& format, bool quiet, bool digests);

// time.Unix(sec, 0).String(): "2026-11-28 21:58:55 +0000 UTC" (local zone).
std::string GoTimeString(int64_t unix_seconds);

}  // namespace berth::cli
