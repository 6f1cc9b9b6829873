// docker inspect: containers, then images (then networks and volumes) by
// name or id; a JSON array indented as docker does, or -f Go templates.
#include <CLI/CLI.hpp>
#include <set>

#include "cli/command.h"
#include "cli/format/go_json.h"
#include "cli/format/go_template.h"

namespace berth::cli {

namespace {

using Json = nlohmann::ordered_json;

struct InspectOptions {
  std::string format;
  std::string type;
  bool size = false;
  std::vector<std::string> names;
};

// Fields of docker's typed structs that are omitted from the JSON when empty
// (omitempty pointers): a template naming one gets <nil>, not an error.
const std::set<std::string>& OmittedFields() {
  static const auto* s = new std::set<std::string>{
      "Health",     "StopTimeout", "StopSignal",  "Healthcheck",     "ExposedPorts",
      "MacAddress", "Shell",       "ArgsEscaped", "NetworkDisabled", "Init",
      "SizeRw",     "SizeRootFs",  "Node",        "Annotations",     "ImageManifestDescriptor",
      "Metadata",   "VirtualSize", "Variant",     "OsVersion",       "OsFeatures",
      "Parent",     "Comment",     "Container",   "ContainerConfig", "DockerVersion",
      "Author",     "Platform",    "Descriptor",  "Identity",        "Manifests",
      "OnBuild",    "Volumes",     "Labels",      "Entrypoint",      "Cmd"};
  return *s;
}

}  // namespace

void RegisterInspectCommand(CLI::App& root, Registry& reg) {
  auto* o = new InspectOptions();
  CLI::App* cmd = root.add_subcommand("inspect", "Return low-level information on Docker objects");
  cmd->add_option("-f,--format", o->format, "Format output using a custom template");
  cmd->add_option("--type", o->type, "Return JSON for specified type");
  cmd->add_flag("-s,--size", o->size, "Display total file sizes if the type is container");
  cmd->add_option("names", o->names);
  CommandSpec spec{
      cmd, "inspect", "inspect [OPTIONS] NAME|ID [NAME|ID...]",
      "Return low-level information on Docker objects", [o](CliContext& ctx) {
        static const std::set<std::string> kTypes = {"", "container", "image", "network", "volume"};
        if (kTypes.count(o->type) == 0) {
          CliContext::Err("\"" + o->type + "\" is not a valid value for --type\n");
          return 1;
        }
        std::optional<tmpl::Template> t;
        if (!o->format.empty()) {
          std::string text = o->format == "json" ? "{{json .}}" : o->format;
          auto parsed = tmpl::Template::Parse(text);
          if (!parsed.ok()) {
            CliContext::Err("template parsing error: " + std::string(parsed.status().message()) +
                            "\n");
            return 64;
          }
          t = std::move(*parsed);
        }
        auto client = ctx.Client();
        if (!client.ok()) return ReportError(client.status());
        ApiClient* c = *client;
        std::vector<std::string> errors;
        std::vector<std::string> raws;
        std::string out;
        for (const auto& name : o->names) {
          struct Kind {
            const char* type;
            std::string path;
            Query query;
          };
          std::vector<Kind> kinds;
          Query size_q;
          if (o->size) size_q.push_back({"size", "1"});
          if (o->type.empty() || o->type == "container")
            kinds.push_back({"container", "/containers/" + name + "/json", size_q});
          if (o->type.empty() || o->type == "image")
            kinds.push_back({"image", "/images/" + name + "/json", {}});
          if (o->type.empty() || o->type == "network")
            kinds.push_back({"network", "/networks/" + name, {}});
          if (o->type.empty() || o->type == "volume")
            kinds.push_back({"volume", "/volumes/" + name, {}});
          std::optional<ApiResponse> found;
          absl::Status last_error;
          for (const auto& k : kinds) {
            auto r = c->Do("GET", k.path, k.query);
            if (r.ok()) {
              found = std::move(*r);
              break;
            }
            if (r.status().code() != absl::StatusCode::kNotFound) {
              last_error = r.status();
              break;
            }
          }
          if (!found) {
            if (!last_error.ok()) {
              errors.push_back(std::string(last_error.message()));
            } else {
              errors.push_back("Error: No such " +
                               (o->type.empty() ? std::string("object") : o->type) + ": " + name);
            }
            continue;
          }
          if (!t) {
            raws.push_back(found->body);
            continue;
          }
          Json data = Json::parse(found->body, nullptr, false);
          tmpl::ExecOptions opts;
          opts.missing_key = tmpl::MissingKey::kError;
          opts.nil_keys = &OmittedFields();
          std::string one;
          absl::Status st = t->Execute(data, &one, opts);
          if (!st.ok()) {
            errors.push_back("template parsing error: " + std::string(st.message()));
            continue;
          }
          out += one + "\n";
        }
        if (!t) {
          if (raws.empty()) {
            CliContext::Out("[]\n");
          } else {
            std::string all = "[";
            for (size_t i = 0; i < raws.size(); ++i) {
              if (i > 0) all += ",";
              std::string r = raws[i];
              while (!r.empty() && (r.back() == '\n' || r.back() == '\r' || r.back() == ' '))
                r.pop_back();
              all += r;
            }
            all += "]";
            CliContext::Out(GoJsonIndent(all, "", "    ") + "\n");
          }
        } else {
          CliContext::Out(out.empty() ? "\n" : out);
        }
        if (!errors.empty()) {
          std::string all;
          for (const auto& e : errors) all += e + "\n";
          CliContext::Err(all);
          return 1;
        }
        return 0;
      }};
  spec.args = &o->names;
  spec.min_args = 1;
  reg.push_back(spec);
}

}  // namespace berth::cli
