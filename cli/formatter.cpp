#include "cli/formatter.h"

#include <ctime>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "cli/format/go_json.h"
#include "cli/format/table_writer.h"
#include "cli/format/units.h"
#include "cli/reference.h"

namespace berth::cli {

namespace {

std::string StrOf(const OrderedJson& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

int64_t IntOf(const OrderedJson& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return 0;
  return it->get<int64_t>();
}

std::string DisplayablePorts(const OrderedJson& ports) {
  if (!ports.is_array()) return "";
  struct P {
    int priv, pub;
    std::string ip, type;
  };
  std::vector<P> list;
  for (const auto& p : ports) {
    list.push_back({static_cast<int>(IntOf(p, "PrivatePort")),
                    static_cast<int>(IntOf(p, "PublicPort")), StrOf(p, "IP"), StrOf(p, "Type")});
  }
  std::stable_sort(list.begin(), list.end(), [](const P& a, const P& b) {
    if (a.priv != b.priv) return a.priv < b.priv;
    if (a.ip != b.ip) return a.ip < b.ip;
    if (a.pub != b.pub) return a.pub < b.pub;
    return a.type < b.type;
  });
  struct Group {
    int first, last;
  };
  std::map<std::string, Group> groups;
  std::vector<std::string> order, result, host_mappings;
  auto join_host = [](const std::string& ip, const std::string& port) {
    return ip.find(':') != std::string::npos ? "[" + ip + "]:" + port : ip + ":" + port;
  };
  auto form = [&](const std::string& key, int start, int last) {
    auto slash = key.find('/');
    std::string type = key, ip;
    if (slash != std::string::npos) {
      ip = key.substr(0, slash);
      type = key.substr(slash + 1);
    }
    std::string g = std::to_string(start);
    if (start != last) g += "-" + std::to_string(last);
    if (!ip.empty()) g = join_host(ip, g) + "->" + g;
    return g + "/" + type;
  };
  for (const auto& p : list) {
    std::string key = p.type;
    if (!p.ip.empty()) {
      if (p.pub != p.priv) {
        host_mappings.push_back(join_host(p.ip, std::to_string(p.pub)) + "->" +
                                std::to_string(p.priv) + "/" + p.type);
        continue;
      }
      key = p.ip + "/" + p.type;
    }
    auto it = groups.find(key);
    if (it == groups.end()) {
      groups[key] = {p.priv, p.priv};
      order.push_back(key);
      continue;
    }
    if (p.priv == it->second.last + 1) {
      it->second.last = p.priv;
      continue;
    }
    result.push_back(form(key, it->second.first, it->second.last));
    it->second = {p.priv, p.priv};
  }
  for (const auto& k : order) result.push_back(form(k, groups[k].first, groups[k].last));
  for (const auto& h : host_mappings) result.push_back(h);
  return absl::StrJoin(result, ", ");
}

std::string ContainerImage(const OrderedJson& c, bool trunc) {
  std::string image = StrOf(c, "Image");
  if (image.empty()) return "<no image>";
  if (!trunc) return image;
  if (TruncateId(StrOf(c, "ImageID")) == TruncateId(image)) return TruncateId(image);
  auto ref = ParseNormalizedNamed(image);
  if (!ref.ok()) return image;
  ref->digest.clear();
  return ref->FamiliarString();
}

}  // namespace

std::string GoTimeString(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  tm local{};
  localtime_r(&t, &local);
  char buf[128];
  strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %z %Z", &local);
  return buf;
}

std::string PreFormat(std::string_view format) {
  std::string f(format);
  while (!f.empty() && f.front() == ' ') f.erase(0, 1);
  while (!f.empty() && f.back() == ' ') f.pop_back();
  std::string out;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == '\\' && i + 1 < f.size() && (f[i + 1] == 't' || f[i + 1] == 'n')) {
      out += f[i + 1] == 't' ? '\t' : '\n';
      ++i;
    } else {
      out += f[i];
    }
  }
  return out;
}

absl::StatusOr<std::string> RenderList(const ListFormat& lf, const std::vector<FormatRow>& rows) {
  bool table = absl::StartsWith(lf.format, "table");
  std::string text = lf.format;
  if (table) {
    text = text.substr(5);
  } else if (text == "json") {
    text = "{{json .}}";
  }
  text = PreFormat(text);
  auto t = tmpl::Template::Parse(text);
  if (!t.ok())
    return absl::InvalidArgumentError("template parsing error: " +
                                      std::string(t.status().message()));
  std::string body;
  for (const auto& row : rows) {
    tmpl::ExecOptions opts;
    opts.root_type = lf.root_type;
    const OrderedJson* labels = &row.labels;
    opts.methods =
        [labels](
            const tmpl::Value& recv, std::string_view name,
            const std::vector<tmpl::Value>& args) -> std::optional<absl::StatusOr<tmpl::Value>> {
      if (name != "Label" || !recv.v.is_object() || !recv.v.contains("ID")) return std::nullopt;
      if (args.size() != 1 || !args[0].v.is_string()) {
        return absl::StatusOr<tmpl::Value>(absl::InvalidArgumentError(
            "wrong number of args for Label: want 1 got " + std::to_string(args.size())));
      }
      std::string v;
      if (labels->is_object()) {
        auto it = labels->find(args[0].v.get<std::string>());
        if (it != labels->end() && it->is_string()) v = it->get<std::string>();
      }
      return absl::StatusOr<tmpl::Value>(tmpl::Value{OrderedJson(v), false});
    };
    auto st = t->Execute(row.fields, &body, opts);
    if (!st.ok())
      return absl::InvalidArgumentError("template parsing error: " + std::string(st.message()));
    body += "\n";
  }
  if (!table) return body;
  std::string header;
  tmpl::ExecOptions hopts;
  hopts.override_funcs = &tmpl::HeaderFuncs();
  // SubHeaderContext.Label: the last dotted part of the name, - and _ as spaces.
  hopts.methods =
      [](const tmpl::Value& recv, std::string_view name,
         const std::vector<tmpl::Value>& args) -> std::optional<absl::StatusOr<tmpl::Value>> {
    if (name != "Label" || !recv.v.is_object() || args.size() != 1 || !args[0].v.is_string()) {
      return std::nullopt;
    }
    std::string label = args[0].v.get<std::string>();
    if (auto dot = label.rfind('.'); dot != std::string::npos) label = label.substr(dot + 1);
    for (char& ch : label) {
      if (ch == '-' || ch == '_') ch = ' ';
    }
    return absl::StatusOr<tmpl::Value>(tmpl::Value{OrderedJson(label), false});
  };
  (void)t->Execute(lf.header, &header, hopts);  // errors leave the partial header, as in docker
  TabWriter w(10, 1, 3, ' ');
  w.Write(header);
  w.Write("\n");
  w.Write(body);
  return w.Flush();
}

OrderedJson ContainerHeader() {
  return OrderedJson{{"ID", "CONTAINER ID"},
                     {"Names", "NAMES"},
                     {"Image", "IMAGE"},
                     {"Command", "COMMAND"},
                     {"CreatedAt", "CREATED AT"},
                     {"RunningFor", "CREATED"},
                     {"Ports", "PORTS"},
                     {"State", "STATE"},
                     {"Status", "STATUS"},
                     {"Size", "SIZE"},
                     {"Labels", "LABELS"},
                     {"Mounts", "MOUNTS"},
                     {"LocalVolumes", "LOCAL VOLUMES"},
                     {"Networks", "NETWORKS"}};
}

std::string ContainerFormat(const std::string& format, bool quiet, bool size) {
  if (format.empty() || format == "table") {
    if (quiet) return "{{.ID}}";
    std::string f =
        "table "
        "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
    if (size) f += "\t{{.Size}}";
    return f;
  }
  if (format == "raw") {
    if (quiet) return "container_id: {{.ID}}";
    return "container_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\ncreated_at: "
           "{{.CreatedAt}}\n"
           "state: {{- pad .State 1 0}}\nstatus: {{- pad .Status 1 0}}\nnames: {{.Names}}\n"
           "labels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\n";
  }
  if (quiet) return "{{.ID}}";
  return format;
}

FormatRow ContainerRow(const OrderedJson& c, bool trunc, int64_t now) {
  FormatRow row;
  std::string id = StrOf(c, "Id");
  std::string names;
  if (c.contains("Names") && c["Names"].is_array()) {
    std::vector<std::string> list;
    for (const auto& n : c["Names"]) {
      std::string name = n.is_string() ? n.get<std::string>() : "";
      if (!name.empty() && name[0] == '/') name.erase(0, 1);
      if (trunc) {
        if (name.find('/') == std::string::npos) {
          list = {name};
          break;
        }
        continue;
      }
      list.push_back(name);
    }
    names = absl::StrJoin(list, ",");
  }
  std::string command = StrOf(c, "Command");
  if (trunc) command = Ellipsis(command, 20);
  int64_t created = IntOf(c, "Created");
  std::string labels;
  if (c.contains("Labels") && c["Labels"].is_object()) {
    std::vector<std::string> kv;
    for (const auto& [k, v] : c["Labels"].items())
      kv.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : ""));
    std::sort(kv.begin(), kv.end());
    labels = absl::StrJoin(kv, ",");
    row.labels = c["Labels"];
  }
  std::vector<std::string> mounts;
  int local = 0;
  if (c.contains("Mounts") && c["Mounts"].is_array()) {
    for (const auto& m : c["Mounts"]) {
      std::string name = StrOf(m, "Name");
      if (name.empty()) name = StrOf(m, "Source");
      if (trunc) name = Ellipsis(name, 15);
      mounts.push_back(name);
      if (StrOf(m, "Driver") == "local") ++local;
    }
  }
  std::vector<std::string> networks;
  if (c.contains("NetworkSettings") && c["NetworkSettings"].is_object() &&
      c["NetworkSettings"].contains("Networks") && c["NetworkSettings"]["Networks"].is_object()) {
    for (const auto& [k, v] : c["NetworkSettings"]["Networks"].items()) networks.push_back(k);
    std::sort(networks.begin(), networks.end());
  }
  std::string size = HumanSizeWithPrecision(static_cast<double>(IntOf(c, "SizeRw")), 3);
  if (IntOf(c, "SizeRootFs") > 0) {
    size +=
        " (virtual " + HumanSizeWithPrecision(static_cast<double>(IntOf(c, "SizeRootFs")), 3) + ")";
  }
  // Keys in alphabetical order: {{json .}} prints them so, as docker does.
  row.fields = OrderedJson{
      {"Command", GoQuote(command)},
      {"CreatedAt", GoTimeString(created)},
      {"ID", trunc ? TruncateId(id) : id},
      {"Image", ContainerImage(c, trunc)},
      {"Labels", labels},
      {"LocalVolumes", std::to_string(local)},
      {"Mounts", absl::StrJoin(mounts, ",")},
      {"Names", names},
      {"Networks", absl::StrJoin(networks, ",")},
      {"Ports", DisplayablePorts(c.contains("Ports") ? c["Ports"] : OrderedJson())},
      {"RunningFor", TimeAgo(created, now)},
      {"Size", size},
      {"State", StrOf(c, "State")},
      {"Status", StrOf(c, "Status")},
  };
  return row;
}

OrderedJson ImageHeader() {
  return OrderedJson{{"ID", "IMAGE ID"},
                     {"Repository", "REPOSITORY"},
                     {"Tag", "TAG"},
                     {"Digest", "DIGEST"},
                     {"CreatedSince", "CREATED"},
                     {"CreatedAt", "CREATED AT"},
                     {"Size", "SIZE"},
                     {"Containers", "CONTAINERS"},
                     {"VirtualSize", "SIZE"},
                     {"SharedSize", "SHARED SIZE"},
                     {"UniqueSize", "UNIQUE SIZE"}};
}

std::string ImageFormat(const std::string& format, bool quiet, bool digests) {
  if (format.empty() || format == "table") {
    if (quiet) return "{{.ID}}";
    if (digests) {
      return "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince "
             "}}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";
    }
    return "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince "
           "}}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";
  }
  if (quiet) return "{{.ID}}";
  std::string f = format;
  if (absl::StartsWith(f, "table") && digests && f.find("{{.Digest}}") == std::string::npos) {
    f += "\t{{.Digest}}";
  }
  return f;
}

std::vector<FormatRow> ImageRows(const OrderedJson& img, bool trunc, bool digests,
                                 const std::string& format, int64_t now) {
  auto list_of = [&](const char* key) {
    std::vector<std::string> out;
    if (img.contains(key) && img[key].is_array()) {
      for (const auto& e : img[key]) {
        if (e.is_string()) out.push_back(e.get<std::string>());
      }
    }
    return out;
  };
  std::vector<std::string> tags = list_of("RepoTags");
  std::vector<std::string> dgsts = list_of("RepoDigests");
  std::string id = StrOf(img, "Id");
  int64_t created = IntOf(img, "Created");
  int64_t size = IntOf(img, "Size");
  int64_t shared = img.contains("SharedSize") ? IntOf(img, "SharedSize") : -1;
  int64_t containers = img.contains("Containers") ? IntOf(img, "Containers") : -1;
  auto make = [&](const std::string& repo, const std::string& tag, const std::string& digest) {
    FormatRow r;
    r.fields = OrderedJson{
        {"Containers", containers == -1 ? "N/A" : std::to_string(containers)},
        {"CreatedAt", GoTimeString(created)},
        {"CreatedSince", TimeAgo(created, now)},
        {"Digest", digest},
        {"ID", trunc ? TruncateId(id) : id},
        {"Repository", repo},
        {"SharedSize", shared == -1 ? "N/A" : HumanSize(static_cast<double>(shared))},
        {"Size", HumanSizeWithPrecision(static_cast<double>(size), 3)},
        {"Tag", tag},
        {"UniqueSize",
         (size == -1 || shared == -1) ? "N/A" : HumanSize(static_cast<double>(size - shared))},
        {"VirtualSize", HumanSize(static_cast<double>(size))},
    };
    return r;
  };
  std::vector<FormatRow> rows;
  bool dangling =
      (tags.empty() && dgsts.empty()) || (tags.size() == 1 && tags[0] == "<none>:<none>" &&
                                          dgsts.size() == 1 && dgsts[0] == "<none>@<none>");
  if (dangling) {
    rows.push_back(make("<none>", "<none>", "<none>"));
    return rows;
  }
  bool need_digest = digests || format.find("{{.Digest}}") != std::string::npos;
  std::vector<std::pair<std::string, std::vector<std::string>>> repo_tags, repo_digests;
  auto add = [](auto& list, const std::string& repo, const std::string& v) {
    for (auto& [r, vs] : list) {
      if (r == repo) {
        vs.push_back(v);
        return;
      }
    }
    list.push_back({repo, {v}});
  };
  for (const auto& t : tags) {
    auto ref = ParseNormalizedNamed(t);
    if (!ref.ok() || ref->tag.empty()) continue;
    add(repo_tags, ref->FamiliarName(), ref->tag);
  }
  for (const auto& d : dgsts) {
    auto ref = ParseNormalizedNamed(d);
    if (!ref.ok() || ref->digest.empty()) continue;
    add(repo_digests, ref->FamiliarName(), ref->digest);
  }
  for (const auto& [repo, ts] : repo_tags) {
    std::vector<std::string> ds;
    for (auto it = repo_digests.begin(); it != repo_digests.end(); ++it) {
      if (it->first == repo) {
        ds = it->second;
        repo_digests.erase(it);
        break;
      }
    }
    if (!need_digest) ds.clear();
    for (const auto& tag : ts) {
      if (ds.empty()) {
        rows.push_back(make(repo, tag, "<none>"));
        continue;
      }
      for (const auto& d : ds) rows.push_back(make(repo, tag, d));
    }
  }
  for (const auto& [repo, ds] : repo_digests) {
    if (digests) {
      for (const auto& d : ds) rows.push_back(make(repo, "<none>", d));
    } else {
      rows.push_back(make(repo, "<none>", ""));
    }
  }
  return rows;
}

}  // namespace berth::cli
