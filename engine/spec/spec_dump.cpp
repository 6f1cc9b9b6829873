// berthd-spec-dump: prints the config.json berthd_spec builds, for tests that
// run it under a real OCI runtime. Not installed.
//
//   berthd-spec-dump ROOTFS [--files DIR] [--cgroups-path P] [--init-path P] < request.json
//
// request.json: {"id": "<64 hex>", "config": {Docker Config}, "host_config":
// {Docker HostConfig}, "image_config": {image "config" object, optional}}.
// The Config is merged with image_config, the user looked up in ROOTFS, and
// with --files the hostname/hosts/resolv.conf files are written to DIR and
// bind-mounted as dockerd does.
#include <stdlib.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "common/fd_util.h"
#include "common/json.h"
#include "common/status.h"
#include "engine/spec/container_spec.h"

namespace {

namespace spec = berth::engine::spec;

absl::StatusOr<berth::Json> Run(const std::string& rootfs, const std::string& files_dir,
                                const std::string& cgroups_path, const std::string& init_path) {
  auto text = berth::ReadAll(STDIN_FILENO);
  if (!text.ok()) return text.status();
  auto request = berth::ParseJson(*text, "standard input");
  if (!request.ok()) return request.status();

  spec::SpecInput in;
  in.id = request->value("id", std::string());
  in.config = request->value("config", berth::Json::object());
  in.host_config = request->value("host_config", berth::Json::object());
  in.cgroups_path = cgroups_path;
  in.init_path = init_path;
  if (absl::Status merged =
          spec::MergeImageConfig(in.config, request->value("image_config", berth::Json::object()));
      !merged.ok()) {
    return merged;
  }
  std::vector<std::string> group_add;
  if (auto it = in.host_config.find("GroupAdd"); it != in.host_config.end() && it->is_array()) {
    group_add = it->get<std::vector<std::string>>();
  }
  auto user = spec::LookupUser(rootfs, in.config.value("User", std::string()), group_add);
  if (!user.ok()) return user.status();
  in.user = *user;

  if (!files_dir.empty()) {
    // Runtimes read relative mount sources against the bundle: make them absolute.
    char* absolute = ::realpath(files_dir.c_str(), nullptr);
    if (absolute == nullptr) return berth::LastErrnoError(files_dir);
    std::string dir = absolute;
    ::free(absolute);
    std::string network_mode = in.host_config.value("NetworkMode", std::string());
    spec::NetworkFilesOptions files;
    files.hostname = in.config.value("Hostname", std::string());
    if (files.hostname.empty()) files.hostname = spec::DefaultHostname(in.id, network_mode);
    files.domainname = in.config.value("Domainname", std::string());
    files.network_mode = network_mode.empty() ? "none" : network_mode;
    if (absl::Status written = spec::WriteNetworkFiles(dir, files); !written.ok()) {
      return written;
    }
    in.hostname_path = dir + "/" + spec::kHostnameFile;
    in.hosts_path = dir + "/" + spec::kHostsFile;
    in.resolv_conf_path = dir + "/" + spec::kResolvConfFile;
  }
  return spec::BuildContainerSpec(in);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Prints the OCI config.json berthd builds for a Docker container request"};
  std::string rootfs, files_dir, cgroups_path, init_path;
  app.add_option("rootfs", rootfs, "The container's root filesystem (for /etc/passwd)")->required();
  app.add_option("--files", files_dir, "Write hostname, hosts and resolv.conf here and mount them");
  app.add_option("--cgroups-path", cgroups_path, "linux.cgroupsPath");
  app.add_option("--init-path", init_path, "docker-init on the host");
  CLI11_PARSE(app, argc, argv);

  auto spec = Run(rootfs, files_dir, cgroups_path, init_path);
  if (!spec.ok()) {
    std::cerr << "berthd-spec-dump: " << spec.status().message() << "\n";
    return 1;
  }
  std::cout << berth::DumpJson(*spec, 2) << "\n";
  return 0;
}
