// docker version, docker info.
#include <sys/utsname.h>

#include <CLI/CLI.hpp>
#include <ctime>

#include "cli/command.h"
#include "cli/format/go_json.h"
#include "cli/format/go_template.h"
#include "cli/format/table_writer.h"
#include "cli/format/units.h"
#include "common/build_info.h"

namespace berth::cli {

namespace {

using Json = nlohmann::ordered_json;

std::string Str(absl::string_view s) { return std::string(s.data(), s.size()); }

// docker's version template, less the client's Go version.
constexpr const char* kVersionTemplate = R"({{with .Client -}}
Client:{{if ne .Platform nil}}{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}{{end}}
 Version:	{{.Version}}
 API version:	{{.ApiVersion}}{{if ne .ApiVersion .DefaultAPIVersion}} (downgraded from {{.DefaultAPIVersion}}){{end}}
 Git commit:	{{.GitCommit}}
 Built:	{{.BuildTime}}
 OS/Arch:	{{.Os}}/{{.Arch}}
 Context:	{{.Context}}
{{- end}}

{{- if ne .Server nil}}{{with .Server}}

Server:{{if ne .Platform nil}}{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}{{end}}
 {{- range $component := .Components}}
 {{$component.Name}}:
  {{- if eq $component.Name "Engine" }}
  Version:	{{.Version}}
  API version:	{{index .Details "ApiVersion"}} (minimum version {{index .Details "MinAPIVersion"}})
  Go version:	{{index .Details "GoVersion"}}
  Git commit:	{{index .Details "GitCommit"}}
  Built:	{{index .Details "BuildTime"}}
  OS/Arch:	{{index .Details "Os"}}/{{index .Details "Arch"}}
  Experimental:	{{index .Details "Experimental"}}
  {{- else }}
  Version:	{{$component.Version}}
  {{- $detailsOrder := getDetailsOrder $component}}
  {{- range $key := $detailsOrder}}
  {{$key}}:	{{index $component.Details $key}}
   {{- end}}
  {{- end}}
 {{- end}}
 {{- end}}{{- end}})";

// reformatDate: RFC 3339 -> time.ANSIC ("Mon Jan _2 15:04:05 2006").
std::string ReformatDate(const std::string& s) {
  tm t{};
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &t);
  if (end == nullptr) return s;
  // Fractional seconds and the zone: keep the wall clock as written.
  char buf[64];
  strftime(buf, sizeof(buf), "%a %b %e %H:%M:%S %Y", &t);
  return buf;
}

std::string Arch() {
  utsname u{};
  ::uname(&u);
  std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  if (m == "i686" || m == "i386") return "386";
  if (m == "armv7l") return "arm";
  return m;
}

std::string JStr(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_null()) return "";
  return it->dump();
}

int VersionCommand(CliContext& ctx, const std::string& format) {
  tmpl::FuncMap extra;
  extra["getDetailsOrder"] = [](const std::vector<tmpl::Value>& a) -> absl::StatusOr<tmpl::Value> {
    Json keys = Json::array();
    if (!a.empty() && a[0].v.is_object() && a[0].v.contains("Details") &&
        a[0].v["Details"].is_object()) {
      std::vector<std::string> k;
      for (const auto& [key, v] : a[0].v["Details"].items()) k.push_back(key);
      std::sort(k.begin(), k.end());
      for (auto& s : k) keys.push_back(s);
    }
    return tmpl::Value{keys, false};
  };
  std::string text = format.empty() ? kVersionTemplate : format == "json" ? "{{json .}}" : format;
  auto t = tmpl::Template::Parse(text, "version", extra);
  if (!t.ok()) {
    CliContext::Err("template parsing error: " + std::string(t.status().message()) + "\n");
    return 64;
  }
  Json client = {{"Platform", {{"Name", ""}}},
                 {"Version", Str(Version())},
                 {"ApiVersion", std::string(kMaxApiVersion)},
                 {"DefaultAPIVersion", std::string(kMaxApiVersion)},
                 {"GitCommit", Str(GitCommit())},
                 {"GoVersion", std::string("gcc ") + __VERSION__},
                 {"Os", "linux"},
                 {"Arch", Arch()},
                 {"BuildTime", ReformatDate(Str(BuildDate()))},
                 {"Context", "default"}};
  Json data = {{"Client", client}, {"Server", nullptr}};
  absl::Status err;
  auto c = ctx.Client();
  if (c.ok()) {
    data["Client"]["ApiVersion"] = (*c)->api_version();
    auto v = (*c)->DoJson("GET", "/version");
    if (v.ok()) {
      Json server = *v;
      bool found_engine = false;
      if (server.contains("Components") && server["Components"].is_array()) {
        for (auto& comp : server["Components"]) {
          if (JStr(comp, "Name") == "Engine") {
            found_engine = true;
            if (comp.contains("Details") && comp["Details"].contains("BuildTime")) {
              comp["Details"]["BuildTime"] = ReformatDate(JStr(comp["Details"], "BuildTime"));
            }
          }
        }
      } else {
        server["Components"] = Json::array();
      }
      if (!found_engine) {
        bool exp = server.contains("Experimental") && server["Experimental"].is_boolean() &&
                   server["Experimental"].get<bool>();
        server["Components"].push_back({{"Name", "Engine"},
                                        {"Version", JStr(server, "Version")},
                                        {"Details",
                                         {{"ApiVersion", JStr(server, "ApiVersion")},
                                          {"MinAPIVersion", JStr(server, "MinAPIVersion")},
                                          {"GitCommit", JStr(server, "GitCommit")},
                                          {"GoVersion", JStr(server, "GoVersion")},
                                          {"Os", JStr(server, "Os")},
                                          {"Arch", JStr(server, "Arch")},
                                          {"BuildTime", ReformatDate(JStr(server, "BuildTime"))},
                                          {"Experimental", exp ? "true" : "false"}}}});
      }
      if (!server.contains("Platform")) server["Platform"] = {{"Name", ""}};
      data["Server"] = server;
    } else {
      err = v.status();
    }
  } else {
    err = c.status();
  }
  std::string out;
  absl::Status st = t->Execute(data, &out);
  TabWriter w(20, 1, 1, ' ');
  w.Write(out);
  w.Write("\n");
  CliContext::Out(w.Flush());
  if (!err.ok()) return ReportError(err);
  if (!st.ok()) return ReportError(st);
  return 0;
}

void Line(std::string* out, const std::string& label, const std::string& value) {
  *out += label + ": " + value + "\n";
}

int InfoCommand(CliContext& ctx, const std::string& format) {
  std::optional<tmpl::Template> t;
  if (!format.empty()) {
    auto parsed = tmpl::Template::Parse(format == "json" ? "{{json .}}" : format);
    if (!parsed.ok()) {
      CliContext::Err("template parsing error: " + std::string(parsed.status().message()) + "\n");
      return 64;
    }
    t = std::move(*parsed);
  }
  auto c = ctx.Client();
  absl::StatusOr<Json> info =
      c.ok() ? (*c)->DoJson("GET", "/info") : absl::StatusOr<Json>(c.status());
  if (t) {
    if (!info.ok()) return ReportError(info.status());
    Json data = *info;
    data["ClientInfo"] = {{"Debug", false}, {"Context", "default"}};
    std::string out;
    absl::Status st = t->Execute(data, &out);
    CliContext::Out(out + "\n");
    if (!st.ok()) return ReportError(st);
    return 0;
  }
  std::string out = "Client:\n Context:    default\n Debug Mode: false\n\nServer:\n";
  if (!info.ok()) {
    CliContext::Out(out);
    return ReportError(info.status());
  }
  const Json& i = *info;
  auto num = [&](const char* k) {
    return i.contains(k) && i[k].is_number() ? std::to_string(i[k].get<int64_t>())
                                             : std::string("0");
  };
  auto str = [&](const char* k) { return JStr(i, k); };
  auto boolean = [&](const char* k) {
    return i.contains(k) && i[k].is_boolean() && i[k].get<bool>() ? std::string("true")
                                                                  : std::string("false");
  };
  Line(&out, " Containers", num("Containers"));
  Line(&out, "  Running", num("ContainersRunning"));
  Line(&out, "  Paused", num("ContainersPaused"));
  Line(&out, "  Stopped", num("ContainersStopped"));
  Line(&out, " Images", num("Images"));
  Line(&out, " Server Version", str("ServerVersion"));
  Line(&out, " Storage Driver", str("Driver"));
  if (i.contains("DriverStatus") && i["DriverStatus"].is_array()) {
    for (const auto& pair : i["DriverStatus"]) {
      if (pair.is_array() && pair.size() == 2) {
        Line(&out, "  " + pair[0].get<std::string>(), pair[1].get<std::string>());
      }
    }
  }
  Line(&out, " Logging Driver", str("LoggingDriver"));
  Line(&out, " Cgroup Driver", str("CgroupDriver"));
  Line(&out, " Cgroup Version", str("CgroupVersion"));
  if (i.contains("Plugins") && i["Plugins"].is_object()) {
    out += " Plugins:\n";
    for (const char* k : {"Volume", "Network", "Authorization", "Log"}) {
      if (i["Plugins"].contains(k) && i["Plugins"][k].is_array() && !i["Plugins"][k].empty()) {
        std::string v;
        for (const auto& e : i["Plugins"][k]) v += (v.empty() ? "" : " ") + e.get<std::string>();
        Line(&out, std::string("  ") + k, v);
      }
    }
  }
  std::string swarm = "inactive";
  if (i.contains("Swarm") && i["Swarm"].is_object()) swarm = JStr(i["Swarm"], "LocalNodeState");
  Line(&out, " Swarm", swarm.empty() ? "inactive" : swarm);
  if (i.contains("Runtimes") && i["Runtimes"].is_object()) {
    std::vector<std::string> names;
    for (const auto& [k, v] : i["Runtimes"].items()) names.push_back(k);
    std::sort(names.begin(), names.end());
    std::string v;
    for (const auto& n : names) v += (v.empty() ? "" : " ") + n;
    Line(&out, " Runtimes", v);
  }
  Line(&out, " Default Runtime", str("DefaultRuntime"));
  Line(&out, " Init Binary", str("InitBinary"));
  auto commit = [&](const char* k) {
    return i.contains(k) && i[k].is_object() ? JStr(i[k], "ID") : std::string();
  };
  Line(&out, " containerd version", commit("ContainerdCommit"));
  Line(&out, " runc version", commit("RuncCommit"));
  Line(&out, " init version", commit("InitCommit"));
  if (i.contains("SecurityOptions") && i["SecurityOptions"].is_array() &&
      !i["SecurityOptions"].empty()) {
    out += " Security Options:\n";
    for (const auto& so : i["SecurityOptions"]) {
      // "name=seccomp,profile=default"
      std::string s = so.get<std::string>();
      std::string name, rest;
      size_t pos = 0;
      while (pos <= s.size()) {
        size_t comma = s.find(',', pos);
        std::string kv =
            s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        auto eq = kv.find('=');
        std::string k = kv.substr(0, eq), v = eq == std::string::npos ? "" : kv.substr(eq + 1);
        if (k == "name") {
          name = v;
        } else if (!k.empty()) {
          std::string label = k;
          label[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(label[0])));
          rest += "   " + label + ": " + v + "\n";
        }
        if (comma == std::string::npos) break;
        pos = comma + 1;
      }
      out += "  " + name + "\n" + rest;
    }
  }
  Line(&out, " Kernel Version", str("KernelVersion"));
  Line(&out, " Operating System", str("OperatingSystem"));
  Line(&out, " OSType", str("OSType"));
  Line(&out, " Architecture", str("Architecture"));
  Line(&out, " CPUs", num("NCPU"));
  Line(&out, " Total Memory",
       BytesSize(i.contains("MemTotal") && i["MemTotal"].is_number() ? i["MemTotal"].get<double>()
                                                                     : 0));
  Line(&out, " Name", str("Name"));
  Line(&out, " ID", str("ID"));
  Line(&out, " Docker Root Dir", str("DockerRootDir"));
  Line(&out, " Debug Mode", boolean("Debug"));
  if (!str("IndexServerAddress").empty()) Line(&out, " Registry", str("IndexServerAddress"));
  out += " Labels:\n";
  if (i.contains("Labels") && i["Labels"].is_array()) {
    for (const auto& l : i["Labels"]) out += "  " + l.get<std::string>() + "\n";
  }
  Line(&out, " Experimental", boolean("ExperimentalBuild"));
  if (i.contains("RegistryConfig") && i["RegistryConfig"].is_object()) {
    const Json& rc = i["RegistryConfig"];
    std::vector<std::string> insecure;
    if (rc.contains("IndexConfigs") && rc["IndexConfigs"].is_object()) {
      for (const auto& [k, v] : rc["IndexConfigs"].items()) {
        if (v.contains("Secure") && v["Secure"].is_boolean() && !v["Secure"].get<bool>())
          insecure.push_back(k);
      }
    }
    if (rc.contains("InsecureRegistryCIDRs") && rc["InsecureRegistryCIDRs"].is_array()) {
      for (const auto& c2 : rc["InsecureRegistryCIDRs"]) insecure.push_back(c2.get<std::string>());
    }
    if (!insecure.empty()) {
      out += " Insecure Registries:\n";
      for (const auto& r : insecure) out += "  " + r + "\n";
    }
  }
  Line(&out, " Live Restore Enabled", boolean("LiveRestoreEnabled"));
  out += "\n";
  CliContext::Out(out);
  if (i.contains("Warnings") && i["Warnings"].is_array()) {
    for (const auto& w : i["Warnings"]) CliContext::Err(w.get<std::string>() + "\n");
  }
  return 0;
}

}  // namespace

void RegisterSystemCommands(CLI::App& root, Registry& reg) {
  {
    auto* format = new std::string();
    CLI::App* cmd = root.add_subcommand("version", "Show the berth version information");
    cmd->add_option("-f,--format", *format, "Format output using a custom template");
    CommandSpec spec{cmd, "version", "version [OPTIONS]", "Show the berth version information",
                     [format](CliContext& ctx) { return VersionCommand(ctx, *format); }};
    spec.max_args = 0;
    reg.push_back(spec);
  }
  {
    auto* format = new std::string();
    CLI::App* cmd = root.add_subcommand("info", "Display system-wide information");
    cmd->add_option("-f,--format", *format, "Format output using a custom template");
    CommandSpec spec{cmd, "info", "info [OPTIONS]", "Display system-wide information",
                     [format](CliContext& ctx) { return InfoCommand(ctx, *format); }};
    spec.max_args = 0;
    reg.push_back(spec);
  }
}

}  // namespace berth::cli
