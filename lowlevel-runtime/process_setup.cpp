#include "lowlevel-runtime/process_setup.h"

#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fd_util.h"
#include "common/status.h"

namespace berth::oci {

absl::StatusOr<int> RlimitResource(const std::string& name) {
  static const std::map<std::string, int> kResources = {
      {"RLIMIT_AS", RLIMIT_AS},
      {"RLIMIT_CORE", RLIMIT_CORE},
      {"RLIMIT_CPU", RLIMIT_CPU},
      {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_FSIZE", RLIMIT_FSIZE},
      {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
      {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
      {"RLIMIT_NICE", RLIMIT_NICE},
      {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_NPROC", RLIMIT_NPROC},
      {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
      {"RLIMIT_RTTIME", RLIMIT_RTTIME},
      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLIMIT_STACK", RLIMIT_STACK},
  };
  auto it = kResources.find(name);
  if (it == kResources.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("process.rlimits: unknown rlimit type \"", name, "\""));
  }
  return it->second;
}

absl::Status ValidateRlimits(const std::vector<Rlimit>& rlimits) {
  for (const Rlimit& r : rlimits) {
    BERTH_RETURN_IF_ERROR(RlimitResource(r.type).status());
    if (r.soft > r.hard) {
      return absl::InvalidArgumentError(absl::StrCat("process.rlimits: ", r.type, " soft limit ",
                                                     r.soft, " is above the hard limit ", r.hard));
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyRlimits(const std::vector<Rlimit>& rlimits) {
  for (const Rlimit& r : rlimits) {
    BERTH_ASSIGN_OR_RETURN(int resource, RlimitResource(r.type));
    struct rlimit limit = {r.soft, r.hard};
    if (::setrlimit(static_cast<__rlimit_resource>(resource), &limit) != 0) {
      int err = errno;
      if (err == EPERM) {
        struct rlimit current;
        ::getrlimit(static_cast<__rlimit_resource>(resource), &current);
        return absl::PermissionDeniedError(
            absl::StrCat("set ", r.type, " to soft ", r.soft, " hard ", r.hard,
                         ": the hard limit can only be raised above the current ", current.rlim_max,
                         " with CAP_SYS_RESOURCE, which this runtime does not have"));
      }
      return ErrnoError(err, absl::StrCat("set ", r.type));
    }
  }
  return absl::OkStatus();
}

absl::Status SetOomScoreAdj(int value) {
  return Annotate(WriteStringToFile("/proc/self/oom_score_adj", std::to_string(value)),
                  "process.oomScoreAdj");
}

void ResetSignals() {
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  }
}

namespace {

// True when /proc/self/setgroups says "deny": a user namespace set up by an
// unprivileged user, where setgroups(2) always fails with EPERM.
bool SetgroupsDenied() {
  auto text = ReadFileToString("/proc/self/setgroups");
  return text.ok() && absl::StartsWith(*text, "deny");
}

}  // namespace

absl::Status SwitchUser(const User& user) {
  std::vector<gid_t> groups(user.additional_gids.begin(), user.additional_gids.end());
  // Only a failure is worth a look at /proc: container start stays one syscall.
  if (::setgroups(groups.size(), groups.data()) != 0) {
    int err = errno;
    if (err != EPERM || !SetgroupsDenied()) {
      return ErrnoError(err, "setgroups for process.user.additionalGids");
    }
    if (!groups.empty()) {
      return absl::FailedPreconditionError(
          "process.user.additionalGids cannot be set: setgroups is denied in this user "
          "namespace (rootless)");
    }
  }
  if (::setresgid(user.gid, user.gid, user.gid) != 0) {
    return LastErrnoError(absl::StrCat("setgid to ", user.gid));
  }
  if (::setresuid(user.uid, user.uid, user.uid) != 0) {
    return LastErrnoError(absl::StrCat("setuid to ", user.uid));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> FindExecutable(const std::string& name,
                                           const std::vector<std::string>& env) {
  auto executable = [](const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0;
  };
  if (name.find('/') != std::string::npos) {
    if (executable(name)) return name;
    struct stat st;
    if (::stat(name.c_str(), &st) == 0) {
      // There but not an executable file: what docker turns into exit code 126.
      return absl::PermissionDeniedError(absl::StrCat("exec: \"", name, "\": permission denied"));
    }
    return absl::NotFoundError(
        absl::StrCat("exec: \"", name, "\": stat ", name, ": no such file or directory"));
  }
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const std::string& e : env) {
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  }
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", name);
    if (executable(candidate)) return candidate;
  }
  return absl::NotFoundError(
      absl::StrCat("exec: \"", name, "\": executable file not found in $PATH"));
}

}  // namespace berth::oci
