// docker pull, docker images, docker rmi.
#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/formatter.h"
#include "cli/json_message.h"
#include "cli/reference.h"
#include "cli/stream.h"

namespace berth::cli {

absl::StatusOr<std::string> FiltersJson(const std::vector<std::string>& filters);
int FilterFlagError(const std::string& cmd, const std::vector<std::string>& filters,
                    const absl::Status& st);

namespace {

using Json = nlohmann::ordered_json;

int TerminalWidth(int fd) {
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 200;
}

struct PullOptions {
  bool all_tags = false;
  bool quiet = false;
  std::string platform;
  std::vector<std::string> names;
};

struct ImagesOptions {
  bool all = false;
  bool digests = false;
  bool no_trunc = false;
  bool quiet = false;
  std::vector<std::string> filters;
  std::string format;
  std::vector<std::string> repo;
};

struct RmiOptions {
  bool force = false;
  bool no_prune = false;
  std::vector<std::string> images;
};

}  // namespace

absl::Status PullImage(ApiClient* client, const std::string& image, int fd, bool quiet) {
  auto ref = ParseNormalizedNamed(image);
  if (!ref.ok()) return ref.status();
  Query q{{"fromImage", ref->FamiliarName()}};
  if (!ref->digest.empty()) {
    q.push_back({"tag", ref->digest});
  } else {
    q.push_back({"tag", ref->tag.empty() ? "latest" : ref->tag});
  }
  bool terminal = ::isatty(fd) != 0;
  JsonMessageRenderer r(
      [fd, quiet](std::string_view s) {
        if (!quiet) (void)WriteAll(fd, s);
      },
      terminal, terminal ? TerminalWidth(fd) : 200);
  absl::Status st = client->Stream("POST", "/images/create", q, std::string(),
                                   [&r](std::string_view data) { return r.Feed(data); },
                                   {{"X-Registry-Auth", "e30="}, {"Content-Type", "text/plain"}});
  if (!st.ok()) return st;
  return r.Finish();
}

void RegisterImageCommands(CLI::App& root, Registry& reg) {
  {
    auto* o = new PullOptions();
    CLI::App* cmd = root.add_subcommand("pull", "Download an image from a registry");
    cmd->add_flag("-a,--all-tags", o->all_tags, "Download all tagged images in the repository");
    cmd->add_flag("-q,--quiet", o->quiet, "Suppress verbose output");
    cmd->add_option("--platform", o->platform, "Set platform if server is multi-platform capable");
    cmd->add_option("name", o->names);
    CommandSpec spec{cmd, "pull", "pull [OPTIONS] NAME[:TAG|@DIGEST]",
                     "Download an image from a registry", [o](CliContext& ctx) {
                       auto ref = ParseNormalizedNamed(o->names[0]);
                       if (!ref.ok()) return ReportError(ref.status());
                       if (o->all_tags && !ref->NameOnly()) {
                         CliContext::Err("tag can't be used with --all-tags/-a\n");
                         return 1;
                       }
                       ImageRef full = *ref;
                       if (!o->all_tags && ref->NameOnly()) {
                         full = ref->WithDefaultTag();
                         if (!o->quiet) CliContext::Out("Using default tag: " + full.tag + "\n");
                       }
                       auto client = ctx.Client();
                       if (!client.ok()) return ReportError(client.status());
                       Query q{{"fromImage", full.FamiliarName()}};
                       if (!o->all_tags)
                         q.push_back({"tag", full.digest.empty() ? full.tag : full.digest});
                       if (!o->platform.empty()) q.push_back({"platform", o->platform});
                       bool terminal = CliContext::StdoutIsTerminal();
                       bool quiet = o->quiet;
                       JsonMessageRenderer r(
                           [quiet](std::string_view s) {
                             if (!quiet) CliContext::Out(s);
                           },
                           terminal, terminal ? TerminalWidth(STDOUT_FILENO) : 200);
                       absl::Status st = (*client)->Stream(
                           "POST", "/images/create", q, std::string(),
                           [&r](std::string_view data) { return r.Feed(data); },
                           {{"X-Registry-Auth", "e30="}, {"Content-Type", "text/plain"}});
                       if (st.ok()) st = r.Finish();
                       if (!st.ok()) return ReportError(st);
                       CliContext::Out(full.String() + "\n");
                       return 0;
                     }};
    spec.args = &o->names;
    spec.min_args = 1;
    spec.max_args = 1;
    reg.push_back(spec);
  }
  {
    auto* o = new ImagesOptions();
    CLI::App* cmd = root.add_subcommand("images", "List images");
    cmd->add_flag("-a,--all", o->all, "Show all images (default hides intermediate images)");
    cmd->add_flag("--digests", o->digests, "Show digests");
    cmd->add_option("-f,--filter", o->filters, "Filter output based on conditions provided");
    cmd->add_option("--format", o->format, "Pretty-print images using a Go template");
    cmd->add_flag("--no-trunc", o->no_trunc, "Don't truncate output");
    cmd->add_flag("-q,--quiet", o->quiet, "Only show image IDs");
    cmd->add_option("repository", o->repo);
    CommandSpec spec{cmd, "images", "images [OPTIONS] [REPOSITORY[:TAG]]", "List images",
                     [o](CliContext& ctx) {
                       std::string format = ImageFormat(o->format, o->quiet, o->digests);
                       Query q;
                       if (o->all) q.push_back({"all", "1"});
                       std::vector<std::string> filters = o->filters;
                       if (!o->repo.empty()) filters.push_back("reference=" + o->repo[0]);
                       if (!filters.empty()) {
                         auto f = FiltersJson(filters);
                         if (!f.ok()) return FilterFlagError("images", o->filters, f.status());
                         q.push_back({"filters", *f});
                       }
                       auto client = ctx.Client();
                       if (!client.ok()) return ReportError(client.status());
                       auto list = (*client)->DoJson("GET", "/images/json", q);
                       if (!list.ok()) return ReportError(list.status());
                       std::vector<FormatRow> rows;
                       if (list->is_array()) {
                         for (const auto& img : *list) {
                           auto r = ImageRows(img, !o->no_trunc, o->digests, format);
                           rows.insert(rows.end(), r.begin(), r.end());
                         }
                       }
                       ListFormat lf{format, ImageHeader(), "*formatter.imageContext"};
                       auto out = RenderList(lf, rows);
                       if (!out.ok()) return ReportError(out.status());
                       CliContext::Out(*out);
                       return 0;
                     }};
    spec.args = &o->repo;
    spec.max_args = 1;
    reg.push_back(spec);
  }
  {
    auto* o = new RmiOptions();
    CLI::App* cmd = root.add_subcommand("rmi", "Remove one or more images");
    cmd->add_flag("-f,--force", o->force, "Force removal of the image");
    cmd->add_flag("--no-prune", o->no_prune, "Do not delete untagged parents");
    cmd->add_option("images", o->images);
    CommandSpec spec{
        cmd, "rmi", "rmi [OPTIONS] IMAGE [IMAGE...]", "Remove one or more images",
        [o](CliContext& ctx) {
          auto client = ctx.Client();
          if (!client.ok()) return ReportError(client.status());
          Query q;
          if (o->force) q.push_back({"force", "1"});
          if (o->no_prune) q.push_back({"noprune", "1"});
          bool failed = false;
          for (const auto& name : o->images) {
            auto r = (*client)->DoJson("DELETE", "/images/" + name, q);
            if (!r.ok()) {
              CliContext::Err(std::string(r.status().message()) + "\n");
              failed = true;
              continue;
            }
            if (r->is_array()) {
              for (const auto& e : *r) {
                if (e.contains("Untagged"))
                  CliContext::Out("Untagged: " + e["Untagged"].get<std::string>() + "\n");
                if (e.contains("Deleted"))
                  CliContext::Out("Deleted: " + e["Deleted"].get<std::string>() + "\n");
              }
            }
          }
          return failed ? 1 : 0;
        }};
    spec.args = &o->images;
    spec.min_args = 1;
    reg.push_back(spec);
  }
}

}  // namespace berth::cli
