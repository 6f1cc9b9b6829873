// What the spec builder needs to know about the host it runs on. Docker reads
// these at daemon start (cgroup version, kernel, capabilities); BuildContainerSpec
// takes them as a value so tests can describe any host.
#pragma once

#include <string>
#include <vector>

namespace berth::engine::spec {

struct HostInfo {
  // /sys/fs/cgroup is a cgroup2 filesystem (a unified host): the default cgroup
  // namespace mode is then "private", else "host" (dockerd's default-cgroupns-mode).
  bool cgroup2 = false;
  // uname -r, for the seccomp profile's minKernel filters.
  std::string kernel_release;
  // The architecture in moby's naming (Go's GOARCH through seccomp_linux.go's
  // goToNative: "amd64", "x86", "arm64", "arm", "s390x", "ppc64le", "riscv64"...).
  std::string arch;
  // The highest capability number the kernel knows (/proc/sys/kernel/cap_last_cap).
  int last_cap = 40;
  // The capabilities this process holds (CapEff), e.g. "CAP_CHOWN". Privileged
  // containers and CapAdd ALL get these; a known capability missing here is
  // skipped from CapAdd, as dockerd does. Empty means "could not tell": every
  // known capability is taken as available.
  std::vector<std::string> available_caps;
  // gethostname(2): the container's hostname in host network mode.
  std::string hostname;
  // Where privileged containers' devices are found.
  std::string dev_dir = "/dev";
  // Whether /proc/sys/<name> exists for the sysctls dockerd adds on private
  // network namespaces (it skips them on kernels without them).
  bool has_ping_group_range = true;
  bool has_unprivileged_port_start = true;
};

// Probes the running host (once; later calls return the cached value).
const HostInfo& LocalHost();
// Probes again, uncached.
HostInfo ProbeHost();

}  // namespace berth::engine::spec
