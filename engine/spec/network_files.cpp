#include "engine/spec/network_files.h"

#include <unistd.h>

#include <optional>
#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/fd_util.h"
#include "common/status.h"

namespace berth::engine::spec {
namespace {

constexpr char kSystemdResolvConf[] = "/run/systemd/resolve/resolv.conf";

struct HostsRecord {
  const char* ip;
  const char* names;
};
// libnetwork etchosts' defaultContent.
constexpr HostsRecord kDefaultHosts[] = {
    {"127.0.0.1", "localhost"},  {"::1", "localhost ip6-localhost ip6-loopback"},
    {"fe00::0", "ip6-localnet"}, {"ff00::0", "ip6-mcastprefix"},
    {"ff02::1", "ip6-allnodes"}, {"ff02::2", "ip6-allrouters"},
};

// libnetwork resolvconf's address patterns (a superset of IPv6, as there).
const std::regex& Ipv4Pattern() {
  static const auto* const re = new std::regex(
      R"(^((25[0-5]|(2[0-4]|1[0-9]|[1-9]|)[0-9])\.){3}(25[0-5]|(2[0-4]|1[0-9]|[1-9]|)[0-9])$)");
  return *re;
}
const std::regex& Ipv6Pattern() {
  static const auto* const re =
      new std::regex(R"(^([0-9A-Fa-f]{0,4}:){2,7}([0-9A-Fa-f]{0,4})(%\w+)?$)");
  return *re;
}
const std::regex& LocalhostPattern() {
  static const auto* const re = new std::regex(R"(^(127\.([0-9]{1,3}\.){2}[0-9]{1,3}|::1)$)");
  return *re;
}

// The address of a "nameserver ADDR" line (no leading blanks, as libnetwork's
// filter regexps); nullopt for any other line.
std::optional<std::string> NameserverOf(absl::string_view line) {
  if (!absl::ConsumePrefix(&line, "nameserver")) return std::nullopt;
  if (line.empty() || !absl::ascii_isspace(static_cast<unsigned char>(line[0]))) {
    return std::nullopt;
  }
  std::vector<absl::string_view> words =
      absl::StrSplit(absl::StripAsciiWhitespace(line), absl::ByAnyChar(" \t"), absl::SkipEmpty());
  if (words.size() != 1) return std::nullopt;
  return std::string(words[0]);
}

// A line without its comment, trimmed.
absl::string_view Uncommented(absl::string_view line) {
  if (size_t hash = line.find_first_of("#;"); hash != absl::string_view::npos) {
    line = line.substr(0, hash);
  }
  return absl::StripAsciiWhitespace(line);
}

std::vector<std::string> Nameservers(absl::string_view content) {
  std::vector<std::string> servers;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    auto address = NameserverOf(Uncommented(line));
    if (!address) continue;
    if (std::regex_match(*address, Ipv4Pattern()) || std::regex_match(*address, Ipv6Pattern())) {
      servers.push_back(*address);
    }
  }
  return servers;
}

// The words after `keyword` on its last line in the file ("search", "options").
std::vector<std::string> KeywordValues(absl::string_view content, absl::string_view keyword) {
  std::vector<std::string> values;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    line = Uncommented(line);
    if (!absl::ConsumePrefix(&line, keyword)) continue;
    if (!line.empty() && !absl::ascii_isspace(static_cast<unsigned char>(line[0]))) continue;
    values = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  }
  return values;
}

absl::StatusOr<std::optional<std::string>> ReadOptional(const std::string& path) {
  auto content = ReadFileToString(path);
  if (content.ok()) return std::optional<std::string>(*std::move(content));
  if (absl::IsNotFound(content.status())) return std::optional<std::string>();
  return content.status();
}

// resolvconf.Path(): the host's file, or systemd-resolved's upstream list when
// the host's only nameserver is the 127.0.0.53 stub (unreachable from a netns).
absl::StatusOr<std::string> HostResolvConf(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> content, ReadOptional(path));
  if (!content) return std::string();
  if (path == "/etc/resolv.conf" &&
      Nameservers(*content) == std::vector<std::string>{"127.0.0.53"}) {
    BERTH_ASSIGN_OR_RETURN(std::optional<std::string> upstream, ReadOptional(kSystemdResolvConf));
    if (upstream) return *std::move(upstream);
  }
  return *std::move(content);
}

absl::StatusOr<std::string> ResolvConfContent(const NetworkFilesOptions& options) {
  BERTH_ASSIGN_OR_RETURN(std::string host, HostResolvConf(options.host_resolv_conf));
  const bool custom =
      !options.dns.empty() || !options.dns_search.empty() || !options.dns_options.empty();
  if (options.network_mode == "host" && !custom) return host;
  if (custom) {
    return BuildResolvConf(
        options.dns.empty() ? Nameservers(host) : options.dns,
        options.dns_search.empty() ? KeywordValues(host, "search") : options.dns_search,
        options.dns_options.empty() ? KeywordValues(host, "options") : options.dns_options);
  }
  // Docker's default networks have IPv6 off: their IPv6 nameservers go too.
  return FilterResolvConf(host, /*ipv6=*/false);
}

absl::StatusOr<std::string> HostsContent(const NetworkFilesOptions& options) {
  if (options.network_mode == "host" && options.extra_hosts.empty()) {
    BERTH_ASSIGN_OR_RETURN(std::optional<std::string> host, ReadOptional(options.host_hosts));
    if (host) return *std::move(host);
  }
  return HostsFileContent(options);
}

}  // namespace

std::string HostnameFileContent(const std::string& hostname, const std::string& domainname) {
  if (domainname.empty()) return absl::StrCat(hostname, "\n");
  return absl::StrCat(hostname, ".", domainname, "\n");
}

std::string HostsFileContent(const NetworkFilesOptions& options) {
  std::string out;
  for (const HostsRecord& record : kDefaultHosts) {
    absl::StrAppend(&out, record.ip, "\t", record.names, "\n");
  }
  for (const std::string& extra : options.extra_hosts) {
    // "name:address"; only the first ':' splits, so IPv6 addresses stay whole.
    size_t colon = extra.find(':');
    if (colon == std::string::npos) continue;
    absl::StrAppend(&out, extra.substr(colon + 1), "\t", extra.substr(0, colon), "\n");
  }
  if (!options.ip.empty()) {
    std::string fqdn = options.hostname;
    if (!options.domainname.empty()) absl::StrAppend(&fqdn, ".", options.domainname);
    std::string names = fqdn;
    if (size_t dot = fqdn.find('.'); dot != std::string::npos) {
      absl::StrAppend(&names, " ", fqdn.substr(0, dot));
    }
    absl::StrAppend(&out, options.ip, "\t", names, "\n");
  }
  return out;
}

std::string FilterResolvConf(absl::string_view content, bool ipv6) {
  std::string out;
  bool dropping = false;
  while (!content.empty()) {
    size_t eol = content.find('\n');
    size_t length = eol == absl::string_view::npos ? content.size() : eol + 1;
    absl::string_view line = content.substr(0, length);
    content.remove_prefix(length);
    // libnetwork's pattern ends in `\s*\n*`: blank lines after a dropped entry go too.
    if (dropping && absl::StripAsciiWhitespace(line).empty()) continue;
    dropping = false;
    if (auto address = NameserverOf(absl::StripTrailingAsciiWhitespace(line))) {
      if (std::regex_match(*address, LocalhostPattern()) ||
          (!ipv6 && std::regex_match(*address, Ipv6Pattern()))) {
        dropping = true;
        continue;
      }
    }
    absl::StrAppend(&out, line);
  }
  if (Nameservers(out).empty()) {
    std::vector<std::string> servers = {"nameserver 8.8.8.8", "nameserver 8.8.4.4"};
    if (ipv6) {
      servers.push_back("nameserver 2001:4860:4860::8888");
      servers.push_back("nameserver 2001:4860:4860::8844");
    }
    absl::StrAppend(&out, "\n", absl::StrJoin(servers, "\n"));
  }
  return out;
}

std::string BuildResolvConf(const std::vector<std::string>& dns,
                            const std::vector<std::string>& dns_search,
                            const std::vector<std::string>& dns_options) {
  std::string out;
  if (!dns_search.empty()) {
    std::string search = absl::StrJoin(dns_search, " ");
    if (absl::StripAsciiWhitespace(search) != ".") absl::StrAppend(&out, "search ", search, "\n");
  }
  for (const std::string& server : dns) absl::StrAppend(&out, "nameserver ", server, "\n");
  if (!dns_options.empty()) {
    std::string joined = absl::StrJoin(dns_options, " ");
    if (!absl::StripAsciiWhitespace(joined).empty()) {
      absl::StrAppend(&out, "options ", joined, "\n");
    }
  }
  return out;
}

absl::Status WriteNetworkFiles(const std::string& dir, const NetworkFilesOptions& options) {
  BERTH_ASSIGN_OR_RETURN(std::string resolv_conf, ResolvConfContent(options));
  BERTH_ASSIGN_OR_RETURN(std::string hosts, HostsContent(options));
  // Rewritten at every start; a crash before the rename leaves the old file.
  BERTH_RETURN_IF_ERROR(WriteFileAtomic(absl::StrCat(dir, "/", kHostnameFile),
                                        HostnameFileContent(options.hostname, options.domainname),
                                        0644, Durability::kNoFsync));
  BERTH_RETURN_IF_ERROR(
      WriteFileAtomic(absl::StrCat(dir, "/", kHostsFile), hosts, 0644, Durability::kNoFsync));
  BERTH_RETURN_IF_ERROR(WriteFileAtomic(absl::StrCat(dir, "/", kResolvConfFile), resolv_conf, 0644,
                                        Durability::kNoFsync));
  return absl::OkStatus();
}

absl::Status WriteNetworkFiles(const std::string& dir, const std::string& hostname,
                               const std::string& network_mode) {
  NetworkFilesOptions options;
  options.hostname = hostname;
  options.network_mode = network_mode;
  return WriteNetworkFiles(dir, options);
}

}  // namespace berth::engine::spec
