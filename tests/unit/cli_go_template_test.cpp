#include <catch2/catch.hpp>
#include <string>

#include "cli/format/go_template.h"

namespace tmpl = berth::cli::tmpl;
using tmpl::Json;

namespace {

// Parses and runs; returns the output or "ERR: <message>".
std::string Run(const std::string& text, const Json& data, const tmpl::ExecOptions& opts = {}) {
  auto t = tmpl::Template::Parse(text);
  if (!t.ok()) return "ERR: " + std::string(t.status().message());
  std::string out;
  auto st = t->Execute(data, &out, opts);
  if (!st.ok()) return "ERR: " + std::string(st.message());
  return out;
}

const Json kContainer = Json::parse(R"({
  "Id": "4211",
  "Args": ["1000", "x"],
  "State": {"Status": "running", "Pid": 3735, "Running": true, "Health": null},
  "Config": {"Image": "busybox", "Env": ["A=1", "B=2"], "Labels": {"k": "v", "a.b": "c"},
             "Entrypoint": null, "Cmd": ["sleep", "1000"]},
  "Ratio": 0.5,
  "Big": 1000000.0
})");

}  // namespace

TEST_CASE("go template: fields, nested fields and map keys") {
  CHECK(Run("{{.State.Status}}", kContainer) == "running");
  CHECK(Run("{{.Id}}", kContainer) == "4211");
  CHECK(Run("{{.Config.Labels.k}}", kContainer) == "v");
  CHECK(Run("{{.State.Pid}} {{.State.Running}} {{.Ratio}} {{.Big}}", kContainer) ==
        "3735 true 0.5 1e+06");
  CHECK(Run("{{.Config.Env}}", kContainer) == "[A=1 B=2]");
  CHECK(Run("{{.Config.Labels}}", kContainer) == "map[a.b:c k:v]");
  CHECK(Run("{{.Config.Entrypoint}}", kContainer) == "<nil>");
  CHECK(Run("{{.Nope}}", kContainer) == "<no value>");
  CHECK(Run("{{.Nope.Deeper}}", kContainer) == "<no value>");
  CHECK(Run("{{.}}", Json("x")) == "x");
  CHECK(Run("a\\tb {{.Id}}", kContainer) == "a\\tb 4211");
  CHECK(Run("{{\"a\\tb\"}}", kContainer) == "a\tb");
  CHECK(Run("{{`raw\\t`}}", kContainer) == "raw\\t");
}

TEST_CASE("go template: docker functions") {
  CHECK(Run("{{json .Config.Labels}}", kContainer) == R"({"k":"v","a.b":"c"})");
  CHECK(Run("{{json .State}}", kContainer) ==
        R"({"Status":"running","Pid":3735,"Running":true,"Health":null})");
  CHECK(Run("{{json .Nope}}", kContainer) == "null");
  CHECK(Run("{{index .Config.Labels \"k\"}}", kContainer) == "v");
  CHECK(Run("{{index .Config.Labels \"missing\"}}", kContainer) == "");
  CHECK(Run("{{index .Args 1}}", kContainer) == "x");
  CHECK(Run("{{join .Args \",\"}}", kContainer) == "1000,x");
  CHECK(Run("{{upper .State.Status}} {{lower \"ABC\"}} {{title \"hello world\"}}", kContainer) ==
        "RUNNING abc Hello World");
  CHECK(Run("{{split \"a,b,c\" \",\"}}", kContainer) == "[a b c]");
  CHECK(Run("{{truncate .State.Status 3}}|{{truncate \"ab\" 5}}", kContainer) == "run|ab");
  CHECK(Run("[{{pad .State.Status 1 2}}][{{pad \"\" 1 2}}]", kContainer) == "[ running  ][]");
  CHECK(Run("{{.State.Status | upper}}", kContainer) == "RUNNING");
  CHECK(Run("{{len .Config.Env}} {{len .Id}}", kContainer) == "2 4");
  CHECK(Run("{{printf \"%s-%d-%5s|%-4s|%05d|%.2f|%q|%v\" .Id .State.Pid \"ab\" \"c\" 42 .Ratio "
            "\"q\" .Args}}",
            kContainer) == "4211-3735-   ab|c   |00042|0.50|\"q\"|[1000 x]");
  CHECK(Run("{{print 1 2 \"a\" \"b\" 3}}", kContainer) == "1 2ab3");
  CHECK(Run("{{println \"a\" 1}}", kContainer) == "a 1\n");
  CHECK(Run("{{html \"<a&b>\"}} {{urlquery \"a b&c\"}}", kContainer) == "&lt;a&amp;b&gt; a+b%26c");
  CHECK(Run("{{slice .Id 1 3}}", kContainer) == "21");
}

TEST_CASE("go template: control structures and variables") {
  CHECK(Run("{{range .Config.Env}}{{.}} {{end}}", kContainer) == "A=1 B=2 ");
  CHECK(Run("{{range $i, $e := .Args}}{{$i}}={{$e}};{{end}}", kContainer) == "0=1000;1=x;");
  CHECK(Run("{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}} {{end}}", kContainer) == "a.b:c k:v ");
  CHECK(Run("{{range .Config.Entrypoint}}x{{else}}none{{end}}", kContainer) == "none");
  CHECK(Run("{{range .Args}}{{if eq . \"x\"}}{{break}}{{end}}{{.}}{{end}}", kContainer) == "1000");
  CHECK(Run("{{range .Args}}{{if eq . \"1000\"}}{{continue}}{{end}}{{.}}{{end}}", kContainer) ==
        "x");
  CHECK(Run("{{if .State.Running}}up{{else}}down{{end}}", kContainer) == "up");
  CHECK(Run("{{if eq .State.Status \"exited\"}}e{{else if eq .State.Status \"running\"}}r{{else}}?"
            "{{end}}",
            kContainer) == "r");
  CHECK(Run("{{if and .State.Running (gt .State.Pid 0)}}yes{{end}}", kContainer) == "yes");
  CHECK(Run("{{if or .Nope .Id}}{{or .Nope .Id}}{{end}}", kContainer) == "4211");
  CHECK(Run("{{if not .State.Health}}no health{{end}}", kContainer) == "no health");
  CHECK(Run("{{with .Config}}{{.Image}}{{end}}", kContainer) == "busybox");
  CHECK(Run("{{with .Nope}}x{{else}}y{{end}}", kContainer) == "y");
  CHECK(Run("{{$img := .Config.Image}}{{range .Args}}{{$img}}{{end}}", kContainer) ==
        "busyboxbusybox");
  CHECK(Run("{{$x := 1}}{{$x = 2}}{{$x}}", kContainer) == "2");
  CHECK(Run("{{range .Args}}{{$.Id}}{{end}}", kContainer) == "42114211");
  CHECK(Run("{{(index .Config.Cmd 0)}} {{(.Config).Image}}", kContainer) == "sleep busybox");
  CHECK(Run("a  {{- .Id -}}  b", kContainer) == "a4211b");
  CHECK(Run("{{/* a comment */}}x", kContainer) == "x");
  CHECK(Run("{{range 3}}{{.}}{{end}}", kContainer) == "012");
}

TEST_CASE("go template: errors are worded as Go words them") {
  CHECK(Run("{{foo}}", kContainer) == "ERR: template: :1: function \"foo\" not defined");
  CHECK(Run("{{.Id", kContainer) == "ERR: template: :1: unclosed action");
  CHECK(Run("{{if .Id}}x", kContainer) == "ERR: template: :1: unexpected EOF");
  CHECK(Run("x{{end}}", kContainer) == "ERR: template: :1: unexpected {{end}}");
  CHECK(Run("{{$x}}", kContainer) == "ERR: template: :1: undefined variable \"$x\"");
  CHECK(Run("\n{{\"abc}}", kContainer) == "ERR: template: :2: unterminated quoted string");
  tmpl::ExecOptions strict;
  strict.missing_key = tmpl::MissingKey::kError;
  CHECK(Run("{{.Foo}}", kContainer, strict) ==
        "ERR: template: :1:2: executing \"\" at <.Foo>: map has no entry for key \"Foo\"");
  tmpl::ExecOptions typed;
  typed.root_type = "*formatter.ContainerContext";
  CHECK(Run("{{.Foo}}", Json::object({{"ID", "x"}}), typed) ==
        "ERR: template: :1:2: executing \"\" at <.Foo>: can't evaluate field Foo in type "
        "*formatter.ContainerContext");
  CHECK(Run("{{.Id.X}}", kContainer) ==
        "ERR: template: :1:2: executing \"\" at <.Id.X>: can't evaluate field X in type string");
  CHECK(Run("{{index .Args 5}}", kContainer) ==
        "ERR: template: :1:2: executing \"\" at <index .Args 5>: error calling index: index out "
        "of range: 5");
  CHECK(Run("{{upper .State.Pid}}", kContainer)
            .find("wrong type for value; expected string; got "
                  "int") != std::string::npos);
}

TEST_CASE("go template: partial output stays on error, header functions") {
  auto t = tmpl::Template::Parse("A{{.ID}}\t{{.Nope | lower}}\t{{.Label \"x\"}}B");
  REQUIRE(t.ok());
  Json header = {{"ID", "CONTAINER ID"}, {"Names", "NAMES"}};
  std::string out;
  tmpl::ExecOptions opts;
  opts.override_funcs = &tmpl::HeaderFuncs();
  auto st = t->Execute(header, &out, opts);
  CHECK_FALSE(st.ok());
  CHECK(out == "ACONTAINER ID\t\t");
}

TEST_CASE("go template: methods with arguments through the hook") {
  tmpl::ExecOptions opts;
  opts.root_type = "*formatter.ContainerContext";
  opts.methods =
      [](const tmpl::Value& recv, std::string_view name,
         const std::vector<tmpl::Value>& args) -> std::optional<absl::StatusOr<tmpl::Value>> {
    if (name != "Label" || !recv.v.is_object()) return std::nullopt;
    if (args.size() != 1) {
      return absl::StatusOr<tmpl::Value>(absl::InvalidArgumentError("wrong number of args"));
    }
    return absl::StatusOr<tmpl::Value>(
        tmpl::Value{Json("v-" + args[0].v.get<std::string>()), false});
  };
  CHECK(Run("{{.Label \"k\"}}", Json::object({{"ID", "x"}}), opts) == "v-k");
}
