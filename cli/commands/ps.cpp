// docker ps.
#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/formatter.h"

namespace berth::cli {

namespace {

using Json = nlohmann::ordered_json;

struct PsOptions {
  bool all = false;
  bool quiet = false;
  bool latest = false;
  bool no_trunc = false;
  bool size = false;
  int last = -1;
  std::vector<std::string> filters;
  std::string format;
};

}  // namespace

// -f key=value (repeated) -> {"key":{"value":true}}
absl::StatusOr<std::string> FiltersJson(const std::vector<std::string>& filters) {
  Json f = Json::object();
  for (const auto& kv : filters) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) {
      return absl::InvalidArgumentError("bad format of filter (expected name=value)");
    }
    std::string key = kv.substr(0, eq);
    for (char& ch : key) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    while (!key.empty() && key.back() == ' ') key.pop_back();
    while (!key.empty() && key.front() == ' ') key.erase(0, 1);
    std::string value = kv.substr(eq + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    f[key][value] = true;
  }
  return f.dump();
}

// pflag's wording for a bad -f value: exit 125.
int FilterFlagError(const std::string& cmd, const std::vector<std::string>& filters,
                    const absl::Status& st) {
  std::string bad;
  for (const auto& f : filters) {
    if (f.find('=') == std::string::npos) bad = f;
  }
  CliContext::Err("invalid argument \"" + bad + "\" for \"-f, --filter\" flag: " +
                  std::string(st.message()) + "\nSee 'berth " + cmd + " --help'.\n");
  return 125;
}

void RegisterPsCommand(CLI::App& root, Registry& reg) {
  auto* o = new PsOptions();
  CLI::App* cmd = root.add_subcommand("ps", "List containers");
  cmd->add_flag("-a,--all", o->all, "Show all containers (default shows just running)");
  cmd->add_option("-f,--filter", o->filters, "Filter output based on conditions provided");
  cmd->add_option("--format", o->format, "Pretty-print containers using a Go template");
  cmd->add_option("-n,--last", o->last, "Show n last created containers (includes all states)");
  cmd->add_flag("-l,--latest", o->latest,
                "Show the latest created container (includes all states)");
  cmd->add_flag("--no-trunc", o->no_trunc, "Don't truncate output");
  cmd->add_flag("-q,--quiet", o->quiet, "Only display container IDs");
  cmd->add_flag("-s,--size", o->size, "Display total file sizes");
  CommandSpec spec{
      cmd, "ps", "ps [OPTIONS]", "List containers", [o](CliContext& ctx) {
        std::string format = ContainerFormat(o->format, o->quiet, o->size);
        // Parse first: a bad template fails before any request.
        if (auto t =
                tmpl::Template::Parse(PreFormat(format.rfind("table", 0) == 0 ? format.substr(5)
                                                : format == "json"            ? "{{json .}}"
                                                                              : format));
            !t.ok()) {
          CliContext::Err("failed to parse template: " + std::string(t.status().message()) + "\n");
          return 1;
        }
        Query q;
        if (o->all) q.push_back({"all", "1"});
        int limit = o->last;
        if (o->latest && limit == -1) limit = 1;
        if (limit > 0) q.push_back({"limit", std::to_string(limit)});
        bool size = o->size || format.find(".Size") != std::string::npos ||
                    format.find("json .") != std::string::npos || format == "json";
        if (size) q.push_back({"size", "1"});
        if (!o->filters.empty()) {
          auto f = FiltersJson(o->filters);
          if (!f.ok()) return FilterFlagError("ps", o->filters, f.status());
          q.push_back({"filters", *f});
        }
        auto client = ctx.Client();
        if (!client.ok()) return ReportError(client.status());
        auto list = (*client)->DoJson("GET", "/containers/json", q);
        if (!list.ok()) return ReportError(list.status());
        std::vector<FormatRow> rows;
        if (list->is_array()) {
          for (const auto& c : *list) rows.push_back(ContainerRow(c, !o->no_trunc));
        }
        ListFormat lf{format, ContainerHeader(), "*formatter.ContainerContext"};
        auto out = RenderList(lf, rows);
        if (!out.ok()) {
          std::string msg(out.status().message());
          const std::string prefix = "template parsing error: ";
          if (msg.rfind(prefix, 0) == 0)
            msg = "failed to execute template: " + msg.substr(prefix.size());
          CliContext::Err(msg + "\n");
          return 1;
        }
        CliContext::Out(*out);
        return 0;
      }};
  spec.max_args = 0;
  reg.push_back(spec);
}

}  // namespace berth::cli
