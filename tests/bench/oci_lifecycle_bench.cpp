// OCI runtime benchmarks, several runtimes in one run, rounds interleaved so
// machine noise hits every runtime alike. Prints per-runtime median and p90 in
// milliseconds and each runtime's ratio to the first.
//   lifecycle (tests/bench/oci-lifecycle): create -> start -> wait -> delete of
//     the bundle's process (/bin/true);
//   exec (tests/bench/oci-exec): `exec ID /bin/true` into a running container
//     made from the bundle (whose process must keep running, e.g. sleep).
//
//   oci_lifecycle_bench --bundle DIR [--mode lifecycle|exec] [--runs N] [--warmup N]
//                       NAME=BINARY...
//
// The bench is a child subreaper, so the container's init, whichever runtime
// made it, ends up as our child and is reaped here ("wait").
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/process.h"

namespace {

struct Runtime {
  std::string name;
  std::string binary;
  std::string root;
  std::vector<double> samples_ms;
};

// Runs a runtime command with stdio on /dev/null (the container inherits the
// stdio of `create`: a pipe would stay open until the container exits).
bool RunQuiet(const std::vector<std::string>& argv, int null_fd) {
  auto child = berth::Spawn({.argv = argv, .fds = {{0, null_fd}, {1, null_fd}, {2, 2}}});
  if (!child.ok()) {
    std::fprintf(stderr, "bench: %s\n", std::string(child.status().message()).c_str());
    return false;
  }
  auto code = child->Wait();
  if (!code.ok() || *code != 0) {
    std::fprintf(stderr, "bench: %s %s failed\n", argv[0].c_str(), argv[3].c_str());
    if (argv[3] == "delete") return true;  // best effort in cleanup
    return false;
  }
  return true;
}

bool Lifecycle(Runtime& rt, const std::string& bundle, int i, int null_fd, double* ms) {
  std::string id = absl::StrCat("bench-", getpid(), "-", i);
  auto begin = std::chrono::steady_clock::now();
  if (!RunQuiet({rt.binary, "--root", rt.root, "create", "--bundle", bundle, id}, null_fd))
    return false;
  if (!RunQuiet({rt.binary, "--root", rt.root, "start", id}, null_fd)) return false;
  // The container's init is now our child (directly, or through subreaping).
  int status = 0;
  if (::waitpid(-1, &status, 0) < 0) return false;
  if (!RunQuiet({rt.binary, "--root", rt.root, "delete", id}, null_fd)) return false;
  *ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
  return true;
}

bool ExecTrue(Runtime& rt, const std::string& id, int null_fd, double* ms) {
  auto begin = std::chrono::steady_clock::now();
  if (!RunQuiet({rt.binary, "--root", rt.root, "exec", id, "/bin/true"}, null_fd)) return false;
  *ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
  return true;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  std::string bundle;
  int runs = 50;
  int warmup = 5;
  std::string mode = "lifecycle";
  std::vector<Runtime> runtimes;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--bundle" && i + 1 < argc) {
      bundle = argv[++i];
    } else if (arg == "--runs" && i + 1 < argc) {
      runs = std::atoi(argv[++i]);
    } else if (arg == "--mode" && i + 1 < argc) {
      mode = argv[++i];
    } else if (arg == "--warmup" && i + 1 < argc) {
      warmup = std::atoi(argv[++i]);
    } else if (auto eq = arg.find('='); eq != std::string::npos) {
      runtimes.push_back({arg.substr(0, eq), arg.substr(eq + 1), "", {}});
    } else {
      std::fprintf(stderr, "usage: %s --bundle DIR [--runs N] [--warmup N] NAME=BINARY...\n",
                   argv[0]);
      return 2;
    }
  }
  if (bundle.empty() || runtimes.empty() || runs <= 0 || (mode != "lifecycle" && mode != "exec")) {
    std::fprintf(stderr, "bench: --bundle and at least one NAME=BINARY are required\n");
    return 2;
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  char tmpl[] = "/tmp/berth-bench-XXXXXX";
  std::string base = ::mkdtemp(tmpl);
  for (Runtime& rt : runtimes) rt.root = absl::StrCat(base, "/", rt.name);

  // One id per runtime: runc and crun both put a container without a
  // cgroupsPath in /<id>, so a shared id would share a cgroup.
  auto exec_id = [](const Runtime& rt) {
    return absl::StrCat("bench-exec-", getpid(), "-", rt.name);
  };
  if (mode == "exec") {
    for (Runtime& rt : runtimes) {
      if (!RunQuiet(
              {rt.binary, "--root", rt.root, "run", "--detach", "--bundle", bundle, exec_id(rt)},
              null_fd)) {
        return 1;
      }
    }
  }
  bool ok = true;
  for (int round = 0; ok && round < warmup + runs; ++round) {
    for (Runtime& rt : runtimes) {
      double ms = 0;
      ok = mode == "exec" ? ExecTrue(rt, exec_id(rt), null_fd, &ms)
                          : Lifecycle(rt, bundle, round, null_fd, &ms);
      if (!ok) break;
      if (round >= warmup) rt.samples_ms.push_back(ms);
    }
  }
  if (mode == "exec") {
    for (Runtime& rt : runtimes) {
      RunQuiet({rt.binary, "--root", rt.root, "delete", "--force", exec_id(rt)}, null_fd);
    }
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }
  if (!ok) return 1;
  if (mode == "exec") {
    std::printf(
        "oci-exec: exec of /bin/true into a running container, %d runs (after %d warm-up)\n", runs,
        warmup);
  } else {
    std::printf(
        "oci-lifecycle: create+start+wait+delete of /bin/true, %d runs (after %d warm-up)\n", runs,
        warmup);
  }
  std::printf("%-12s %10s %10s %10s\n", "runtime", "median ms", "p90 ms", "ratio");
  double reference = Percentile(runtimes[0].samples_ms, 0.5);
  for (const Runtime& rt : runtimes) {
    double median = Percentile(rt.samples_ms, 0.5);
    std::printf("%-12s %10.2f %10.2f %10.2f\n", rt.name.c_str(), median,
                Percentile(rt.samples_ms, 0.9), median / reference);
  }
  std::string cleanup = absl::StrCat("rm -rf ", base);
  return std::system(cleanup.c_str()) == 0 ? 0 : 1;
}
