#include <signal.h>

#include <cctype>
#include <map>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lowlevel-runtime/commands.h"

namespace berth::oci {

absl::StatusOr<int> ParseSignal(const std::string& signal) {
  int number = 0;
  if (absl::SimpleAtoi(signal, &number)) {
    if (number <= 0 || number >= NSIG) {
      return absl::InvalidArgumentError(absl::StrCat("invalid signal number: ", signal));
    }
    return number;
  }
  static const std::map<std::string, int> kSignals = {
      {"ABRT", SIGABRT}, {"ALRM", SIGALRM},     {"BUS", SIGBUS},       {"CHLD", SIGCHLD},
      {"CONT", SIGCONT}, {"FPE", SIGFPE},       {"HUP", SIGHUP},       {"ILL", SIGILL},
      {"INT", SIGINT},   {"IO", SIGIO},         {"IOT", SIGIOT},       {"KILL", SIGKILL},
      {"PIPE", SIGPIPE}, {"POLL", SIGPOLL},     {"PROF", SIGPROF},     {"PWR", SIGPWR},
      {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV},     {"STKFLT", SIGSTKFLT}, {"STOP", SIGSTOP},
      {"SYS", SIGSYS},   {"TERM", SIGTERM},     {"TRAP", SIGTRAP},     {"TSTP", SIGTSTP},
      {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},       {"USR1", SIGUSR1},
      {"USR2", SIGUSR2}, {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},   {"XCPU", SIGXCPU},
      {"XFSZ", SIGXFSZ},
  };
  std::string name = absl::AsciiStrToUpper(signal);
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  if (auto it = kSignals.find(name); it != kSignals.end()) return it->second;
  if (name.rfind("RTMIN", 0) == 0 || name.rfind("RTMAX", 0) == 0) {
    int offset = 0;
    std::string rest = name.substr(5);
    if (rest.empty() || absl::SimpleAtoi(rest, &offset)) {
      int sig = name.rfind("RTMIN", 0) == 0 ? SIGRTMIN + offset : SIGRTMAX + offset;
      if (sig >= SIGRTMIN && sig <= SIGRTMAX) return sig;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown signal \"", signal, "\""));
}

}  // namespace berth::oci
