// The files Docker writes for a container's network identity and bind-mounts at
// /etc/hostname, /etc/hosts and /etc/resolv.conf (moby container.BuildHostnameFile,
// libnetwork etchosts and resolvconf).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace berth::engine::spec {

// The names WriteNetworkFiles uses inside its directory.
inline constexpr char kHostnameFile[] = "hostname";
inline constexpr char kHostsFile[] = "hosts";
inline constexpr char kResolvConfFile[] = "resolv.conf";

struct NetworkFilesOptions {
  std::string hostname;
  std::string domainname;
  // "none", "host", "bridge"/"default" or a network name. "host" copies the
  // host's hosts and resolv.conf as they are (unless dns/extra_hosts are given).
  std::string network_mode = "none";
  // The container's address on its network; "" for none (no "<ip> <hostname>" line).
  std::string ip;
  // HostConfig.Dns, DnsSearch, DnsOptions: when any is set, resolv.conf is built
  // from them, the unset ones taken from the host's file.
  std::vector<std::string> dns, dns_search, dns_options;
  // HostConfig.ExtraHosts, "name:address".
  std::vector<std::string> extra_hosts;
  // The host's files (overridable for tests).
  std::string host_resolv_conf = "/etc/resolv.conf";
  std::string host_hosts = "/etc/hosts";
};

// Writes dir/hostname, dir/hosts and dir/resolv.conf (0644, each atomically:
// temp file then rename). dir must exist.
absl::Status WriteNetworkFiles(const std::string& dir, const NetworkFilesOptions& options);
absl::Status WriteNetworkFiles(const std::string& dir, const std::string& hostname,
                               const std::string& network_mode);

// The contents, for callers and tests.
std::string HostnameFileContent(const std::string& hostname, const std::string& domainname);
// Docker's default records (localhost and the ip6 names, tab-separated), then
// extra_hosts, then "<ip>\t<fqdn> <hostname>" when ip is set.
std::string HostsFileContent(const NetworkFilesOptions& options);
// libnetwork's FilterResolvDNS: drops localhost nameservers (127.x, ::1) and,
// without IPv6, IPv6 ones; when none is left, Google's public servers are added.
std::string FilterResolvConf(absl::string_view content, bool ipv6);
// resolvconf.Build: "search", "nameserver" lines, "options".
std::string BuildResolvConf(const std::vector<std::string>& dns,
                            const std::vector<std::string>& dns_search,
                            const std::vector<std::string>& dns_options);

}  // namespace berth::engine::spec
