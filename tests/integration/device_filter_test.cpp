// The cgroup v2 device filter (eBPF), checked on a real cgroup of the unified
// hierarchy: a process moved into it is allowed or refused device access as the
// rules say. Needs root and a cgroup2 mount (/sys/fs/cgroup or /sys/fs/cgroup/unified).
#include "lowlevel-runtime/cgroups/device_filter.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/fd_util.h"

namespace {

using berth::oci::DeviceCgroupRule;

std::string UnifiedMount() {
  for (const char* path : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    struct statfs st;
    if (::statfs(path, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC) return path;
  }
  return "";
}

DeviceCgroupRule Rule(bool allow, const char* type, std::optional<int64_t> major,
                      std::optional<int64_t> minor, const char* access) {
  DeviceCgroupRule r;
  r.allow = allow;
  r.type = type;
  r.major = major;
  r.minor = minor;
  r.access = access;
  return r;
}

// A cgroup on the unified hierarchy with the filter attached; removed at the end.
struct FilteredCgroup {
  explicit FilteredCgroup(const std::vector<DeviceCgroupRule>& rules) {
    dir = absl::StrCat(UnifiedMount(), "/berth-devfilter-test-", ::getpid());
    REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
    auto fd = berth::OpenFile(dir, O_RDONLY | O_DIRECTORY);
    absl::Status st = fd.ok() ? berth::oci::AttachDeviceFilter(fd->Get(), rules) : fd.status();
    if (!st.ok()) {
      ::rmdir(dir.c_str());  // the destructor does not run for a failed constructor
      FAIL(std::string(st.message()));
    }
  }
  ~FilteredCgroup() { ::rmdir(dir.c_str()); }

  // errno of open(path, flags) in a child moved into the cgroup (0 on success).
  int OpenErrno(const char* path, int flags) {
    pid_t pid = ::fork();
    if (pid == 0) {
      if (!berth::WriteStringToFile(dir + "/cgroup.procs", std::to_string(::getpid())).ok()) {
        ::_exit(255);
      }
      int fd = ::open(path, flags);
      ::_exit(fd >= 0 ? 0 : errno);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 254;
  }

  std::string dir;
};

}  // namespace

TEST_CASE("device filter: deny by default, allow what a rule allows", "[root]") {
  if (::geteuid() != 0 || UnifiedMount().empty()) {
    WARN("skipped: needs root and a cgroup2 mount");
    return;
  }
  FilteredCgroup cg(
      {Rule(false, "a", std::nullopt, std::nullopt, "rwm"), Rule(true, "c", 1, 5, "rwm")});
  CHECK(cg.OpenErrno("/dev/zero", O_RDONLY) == 0);
  CHECK(cg.OpenErrno("/dev/null", O_RDONLY) == EPERM);
  CHECK(cg.OpenErrno("/dev/full", O_WRONLY) == EPERM);
}

TEST_CASE("device filter: the last matching rule wins", "[root]") {
  if (::geteuid() != 0 || UnifiedMount().empty()) {
    WARN("skipped: needs root and a cgroup2 mount");
    return;
  }
  FilteredCgroup cg(
      {Rule(true, "a", std::nullopt, std::nullopt, "rwm"), Rule(false, "c", 1, 3, "rwm")});
  CHECK(cg.OpenErrno("/dev/null", O_RDONLY) == EPERM);
  CHECK(cg.OpenErrno("/dev/zero", O_RDONLY) == 0);
}

TEST_CASE("device filter: access must be within the rule's", "[root]") {
  if (::geteuid() != 0 || UnifiedMount().empty()) {
    WARN("skipped: needs root and a cgroup2 mount");
    return;
  }
  FilteredCgroup cg({Rule(true, "c", 1, std::nullopt, "r")});
  CHECK(cg.OpenErrno("/dev/null", O_RDONLY) == 0);
  CHECK(cg.OpenErrno("/dev/null", O_WRONLY) == EPERM);
  CHECK(cg.OpenErrno("/dev/tty", O_RDONLY) == EPERM);  // 5:0, another major
}

TEST_CASE("device filter program: one verdict per rule plus the default") {
  auto prog = berth::oci::DeviceFilterProgram({Rule(true, "c", 1, 3, "rwm")});
  // 6 prologue loads + type, major, minor checks + verdict + exit + default (2).
  CHECK(prog.size() == 6 + 3 + 2 + 2);
  CHECK(berth::oci::DeviceFilterProgram({}).size() == 6 + 2);
  // Nothing after a rule that always matches (the verifier refuses unreachable code).
  CHECK(berth::oci::DeviceFilterProgram(
            {Rule(true, "c", 1, 3, "rwm"), Rule(false, "a", std::nullopt, std::nullopt, "rwm")})
            .size() == 6 + 2);
}

TEST_CASE("device filter: attaching again replaces the filter (update)", "[root]") {
  if (::geteuid() != 0 || UnifiedMount().empty()) {
    WARN("skipped: needs root and a cgroup2 mount");
    return;
  }
  FilteredCgroup cg({Rule(true, "c", 1, 5, "rwm")});  // /dev/zero only
  CHECK(cg.OpenErrno("/dev/null", O_RDONLY) == EPERM);
  auto fd = berth::OpenFile(cg.dir, O_RDONLY | O_DIRECTORY);
  REQUIRE(fd.ok());
  REQUIRE(berth::oci::AttachDeviceFilter(fd->Get(), {Rule(true, "c", 1, 3, "rwm")}).ok());
  // Stacked, the two programs would both have to allow: nothing would open.
  CHECK(cg.OpenErrno("/dev/null", O_RDONLY) == 0);
  CHECK(cg.OpenErrno("/dev/zero", O_RDONLY) == EPERM);
  auto attached = berth::oci::AttachedDeviceFilters(fd->Get());
  REQUIRE(attached.ok());
  CHECK(attached->size() == 1);
}
