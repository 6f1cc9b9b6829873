#include "lowlevel-runtime/security/seccomp.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace berth::oci {
namespace {

struct CtxRelease {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxRelease>;

// The errno an SCMP_ACT_ERRNO or SCMP_ACT_TRACE action returns: errnoRet, or
// EPERM as runc does. The kernel keeps 16 bits of it.
absl::StatusOr<uint32_t> ErrnoData(const std::optional<uint32_t>& errno_ret,
                                   absl::string_view errno_field) {
  if (!errno_ret) return uint32_t{EPERM};
  if (*errno_ret > 0xffff) {
    return absl::InvalidArgumentError(
        absl::StrCat(errno_field, ": ", *errno_ret, " is out of range (0-65535)"));
  }
  return *errno_ret;
}

// The libseccomp action for a spec action name; errnoRet is ignored by every
// action that returns no value, as runc ignores it.
absl::StatusOr<uint32_t> ResolveAction(const std::string& name,
                                       const std::optional<uint32_t>& errno_ret,
                                       absl::string_view field, absl::string_view errno_field) {
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_ERRNO") {
    BERTH_ASSIGN_OR_RETURN(uint32_t err, ErrnoData(errno_ret, errno_field));
    return SCMP_ACT_ERRNO(err);
  }
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_TRACE") {
    BERTH_ASSIGN_OR_RETURN(uint32_t err, ErrnoData(errno_ret, errno_field));
    return SCMP_ACT_TRACE(err);
  }
  if (name == "SCMP_ACT_NOTIFY") {
    return absl::UnimplementedError(absl::StrCat(
        field, ": SCMP_ACT_NOTIFY (a seccomp user-space notifier) is not supported by berth-oci"));
  }
  return absl::InvalidArgumentError(absl::StrCat(field, ": unknown action \"", name, "\""));
}

absl::StatusOr<scmp_compare> ResolveOperator(const std::string& name, absl::string_view field) {
  static constexpr std::pair<absl::string_view, scmp_compare> kOperators[] = {
      {"SCMP_CMP_NE", SCMP_CMP_NE},
      {"SCMP_CMP_LT", SCMP_CMP_LT},
      {"SCMP_CMP_LE", SCMP_CMP_LE},
      {"SCMP_CMP_EQ", SCMP_CMP_EQ},
      {"SCMP_CMP_GE", SCMP_CMP_GE},
      {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
  };
  for (const auto& [op_name, op] : kOperators) {
    if (name == op_name) return op;
  }
  return absl::InvalidArgumentError(absl::StrCat(field, ": unknown operator \"", name, "\""));
}

// SCMP_ARCH_X86_64 -> libseccomp's "x86_64" -> its audit token.
absl::StatusOr<uint32_t> ResolveArch(const std::string& name, absl::string_view field) {
  constexpr absl::string_view kPrefix = "SCMP_ARCH_";
  uint32_t arch = 0;
  if (absl::StartsWith(name, kPrefix)) {
    std::string lower = absl::AsciiStrToLower(absl::string_view(name).substr(kPrefix.size()));
    arch = seccomp_arch_resolve_name(lower.c_str());
  }
  if (arch == 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": unknown architecture \"", name, "\""));
  }
  return arch;
}

// SECCOMP_FILTER_FLAG_* as in seccomp(2). The matching libseccomp attribute
// is set too, only for libseccomp to check that the kernel supports it.
absl::StatusOr<unsigned int> ApplyFlag(scmp_filter_ctx ctx, const std::string& flag,
                                       absl::string_view field) {
  struct Flag {
    absl::string_view name;
    unsigned int value;
    scmp_filter_attr attr;
  };
  static constexpr Flag kFlags[] = {
      {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC, SCMP_FLTATR_CTL_TSYNC},
      {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG, SCMP_FLTATR_CTL_LOG},
      {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW, SCMP_FLTATR_CTL_SSB},
  };
  for (const Flag& known : kFlags) {
    if (flag == known.name) {
      int rc = seccomp_attr_set(ctx, known.attr, 1);
      if (rc < 0) return ErrnoError(-rc, absl::StrCat(field, ": ", flag));
      return known.value;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(field, ": unknown flag \"", flag, "\""));
}

// The BPF program libseccomp generates for ctx. It only writes it to a file
// descriptor (seccomp_export_bpf_mem is libseccomp 2.6): a memfd, read back.
absl::StatusOr<std::vector<sock_filter>> Compile(scmp_filter_ctx ctx) {
  UniqueFd fd(::memfd_create("berth-seccomp-bpf", MFD_CLOEXEC));
  if (!fd) return LastErrnoError("compile seccomp filter: memfd_create");
  int rc = seccomp_export_bpf(ctx, fd.Get());
  if (rc < 0) return ErrnoError(-rc, "compile seccomp filter");
  off_t size = ::lseek(fd.Get(), 0, SEEK_END);
  if (size < 0) return LastErrnoError("compile seccomp filter: lseek");
  std::vector<sock_filter> program(static_cast<size_t>(size) / sizeof(sock_filter));
  const size_t bytes = program.size() * sizeof(sock_filter);
  auto* out = reinterpret_cast<char*>(program.data());
  for (size_t done = 0; done < bytes;) {
    ssize_t n = ::pread(fd.Get(), out + done, bytes - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return LastErrnoError("compile seccomp filter: read");
    if (n == 0) return absl::InternalError("compile seccomp filter: short read");
    done += static_cast<size_t>(n);
  }
  if (program.size() > BPF_MAXINSNS) {
    return absl::InvalidArgumentError(
        absl::StrCat("linux.seccomp: the filter compiles to ", program.size(),
                     " BPF instructions, more than the kernel's limit of ", BPF_MAXINSNS));
  }
  return program;
}

absl::Status AddRule(scmp_filter_ctx ctx, uint32_t action, int nr, const std::string& name,
                     const std::vector<scmp_arg_cmp>& args, bool split_args,
                     absl::string_view field) {
  // Not the _exact variant: libseccomp rewrites the rule per architecture
  // (socketcall on x86, syscalls some architectures lack are left out).
  auto add = [&](unsigned count, const scmp_arg_cmp* cmp) -> absl::Status {
    int rc = seccomp_rule_add_array(ctx, action, nr, count, cmp);
    if (rc < 0) return ErrnoError(-rc, absl::StrCat(field, ": add rule for \"", name, "\""));
    return absl::OkStatus();
  };
  if (!split_args) return add(static_cast<unsigned>(args.size()), args.data());
  // libseccomp cannot AND two comparisons of one argument: as runc does, each
  // comparison becomes a rule of its own, so they are ORed.
  for (const scmp_arg_cmp& cmp : args) BERTH_RETURN_IF_ERROR(add(1, &cmp));
  return absl::OkStatus();
}

absl::Status AddSyscallRule(scmp_filter_ctx ctx, const SeccompSyscall& rule, size_t index,
                            uint32_t default_action) {
  const std::string field = absl::StrCat("linux.seccomp.syscalls[", index, "]");
  BERTH_ASSIGN_OR_RETURN(uint32_t action,
                         ResolveAction(rule.action, rule.errno_ret, absl::StrCat(field, ".action"),
                                       absl::StrCat(field, ".errnoRet")));

  std::vector<scmp_arg_cmp> args;
  args.reserve(rule.args.size());
  unsigned seen = 0;  // bit i: argument i is compared
  bool split_args = false;
  for (size_t i = 0; i < rule.args.size(); ++i) {
    const SeccompArg& arg = rule.args[i];
    if (arg.index > 5) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".args[", i, "].index: ", arg.index, " is out of range (0-5)"));
    }
    BERTH_ASSIGN_OR_RETURN(scmp_compare op,
                           ResolveOperator(arg.op, absl::StrCat(field, ".args[", i, "].op")));
    // For SCMP_CMP_MASKED_EQ, value is the mask and valueTwo the datum; the
    // other operators ignore datum_b.
    args.push_back(scmp_arg_cmp{arg.index, op, arg.value, arg.value_two});
    if ((seen & (1u << arg.index)) != 0) split_args = true;
    seen |= 1u << arg.index;
  }

  // libseccomp refuses (EACCES) a rule whose action is the default one; it
  // would change nothing, so it is left out, as runc does. Names are checked
  // all the same.
  const bool redundant = action == default_action;
  for (const std::string& name : rule.names) {
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".names: unknown syscall \"", name, "\""));
    }
    if (redundant) continue;
    BERTH_RETURN_IF_ERROR(AddRule(ctx, action, nr, name, args, split_args, field));
  }
  return absl::OkStatus();
}

// Everything the compiled program depends on, as text: every field of the
// filter as the spec states it, and the libseccomp that compiles it. (A field
// added to Seccomp must be added here.)
std::string CacheKey(const Seccomp& spec) {
  const scmp_version* v = seccomp_version();
  std::string key = absl::StrCat("berth-seccomp-v1 libseccomp ", v->major, ".", v->minor, ".",
                                 v->micro, " api ", seccomp_api_get(), "\n");
  auto opt = [](const std::optional<uint32_t>& n) {
    return n ? absl::StrCat(*n) : std::string("-");
  };
  absl::StrAppend(&key, "default ", spec.default_action, " ", opt(spec.default_errno_ret), "\n");
  for (const std::string& arch : spec.architectures) absl::StrAppend(&key, "arch ", arch, "\n");
  for (const std::string& flag : spec.flags) absl::StrAppend(&key, "flag ", flag, "\n");
  absl::StrAppend(&key, "listener ", spec.listener_path, "\n");
  for (const SeccompSyscall& rule : spec.syscalls) {
    absl::StrAppend(&key, "rule ", rule.action, " ", opt(rule.errno_ret));
    for (const std::string& name : rule.names) absl::StrAppend(&key, " ", name);
    for (const SeccompArg& arg : rule.args) {
      absl::StrAppend(&key, " [", arg.index, " ", arg.op, " ", arg.value, " ", arg.value_two, "]");
    }
    absl::StrAppend(&key, "\n");
  }
  return key;
}

// The cache file's name: FNV-1a of the key. Names may collide; the file holds
// the whole key, compared on every read, so a collision is only a miss.
std::string CacheFileName(const std::string& key) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
  return absl::StrCat(absl::Hex(h, absl::kZeroPad16), ".bpf");
}

// The cache file: this magic, the key's length (uint32) and the key, the
// SECCOMP_FILTER_FLAG_* bits (uint32), then the program's instructions.
constexpr char kCacheMagic[8] = {'B', 'S', 'E', 'C', 'B', 'P', 'F', '2'};

std::optional<std::pair<std::vector<sock_filter>, unsigned int>> ReadCached(
    const std::string& path, const std::string& key) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  struct stat st {};
  if (!fd || ::fstat(fd.Get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  const size_t header = sizeof kCacheMagic + sizeof(uint32_t) + key.size() + sizeof(uint32_t);
  const auto size = static_cast<size_t>(st.st_size);
  if (size <= header || (size - header) % sizeof(sock_filter) != 0 ||
      (size - header) / sizeof(sock_filter) > BPF_MAXINSNS) {
    return std::nullopt;
  }
  std::string bytes(size, '\0');
  if (::pread(fd.Get(), bytes.data(), size, 0) != static_cast<ssize_t>(size) ||
      bytes.compare(0, sizeof kCacheMagic, kCacheMagic, sizeof kCacheMagic) != 0) {
    return std::nullopt;
  }
  uint32_t key_size = 0;
  std::memcpy(&key_size, bytes.data() + sizeof kCacheMagic, sizeof key_size);
  if (key_size != key.size() ||
      bytes.compare(sizeof kCacheMagic + sizeof key_size, key.size(), key) != 0) {
    return std::nullopt;
  }
  uint32_t flags = 0;
  std::memcpy(&flags, bytes.data() + header - sizeof flags, sizeof flags);
  std::vector<sock_filter> program((size - header) / sizeof(sock_filter));
  std::memcpy(program.data(), bytes.data() + header, size - header);
  return std::make_pair(std::move(program), flags);
}

// Written to a temp file and renamed, so a reader never sees half of one.
void WriteCached(const std::string& dir, const std::string& path, const std::string& key,
                 const std::vector<sock_filter>& program, uint32_t flags) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return;
  std::string bytes(kCacheMagic, sizeof kCacheMagic);
  const auto key_size = static_cast<uint32_t>(key.size());
  bytes.append(reinterpret_cast<const char*>(&key_size), sizeof key_size);
  bytes += key;
  bytes.append(reinterpret_cast<const char*>(&flags), sizeof flags);
  bytes.append(reinterpret_cast<const char*>(program.data()), program.size() * sizeof(sock_filter));
  std::string tmp = absl::StrCat(path, ".", ::getpid(), ".tmp");
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return;
  bool ok = ::write(fd.Get(), bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  fd.Reset();
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) ::unlink(tmp.c_str());
}

}  // namespace

absl::StatusOr<SeccompFilter> SeccompFilter::Build(const Seccomp& spec,
                                                   const std::string& cache_dir) {
  std::string cache_path, key;
  if (!cache_dir.empty()) {
    key = CacheKey(spec);
    cache_path = absl::StrCat(cache_dir, "/", CacheFileName(key));
    if (auto cached = ReadCached(cache_path, key)) {
      return SeccompFilter(std::move(cached->first), cached->second);
    }
  }
  BERTH_ASSIGN_OR_RETURN(
      uint32_t default_action,
      ResolveAction(spec.default_action, spec.default_errno_ret, "linux.seccomp.defaultAction",
                    "linux.seccomp.defaultErrnoRet"));
  Ctx ctx(seccomp_init(default_action));
  if (ctx == nullptr) {
    return absl::InternalError(absl::StrCat("linux.seccomp.defaultAction: libseccomp refused \"",
                                            spec.default_action, "\""));
  }
  scmp_filter_ctx raw = ctx.get();

  unsigned int flags = 0;
  for (size_t i = 0; i < spec.flags.size(); ++i) {
    BERTH_ASSIGN_OR_RETURN(
        unsigned int flag,
        ApplyFlag(raw, spec.flags[i], absl::StrCat("linux.seccomp.flags[", i, "]")));
    flags |= flag;
  }

  // Architectures before rules: each rule is added to every architecture.
  for (size_t i = 0; i < spec.architectures.size(); ++i) {
    const std::string field = absl::StrCat("linux.seccomp.architectures[", i, "]");
    BERTH_ASSIGN_OR_RETURN(uint32_t arch, ResolveArch(spec.architectures[i], field));
    int rc = seccomp_arch_add(raw, arch);
    if (rc < 0 && rc != -EEXIST) {  // EEXIST: the native one, there from the start
      return ErrnoError(-rc, absl::StrCat(field, ": add ", spec.architectures[i]));
    }
  }

  for (size_t i = 0; i < spec.syscalls.size(); ++i) {
    BERTH_RETURN_IF_ERROR(AddSyscallRule(raw, spec.syscalls[i], i, default_action));
  }
  BERTH_ASSIGN_OR_RETURN(std::vector<sock_filter> program, Compile(raw));
  if (!cache_path.empty()) WriteCached(cache_dir, cache_path, key, program, flags);
  return SeccompFilter(std::move(program), flags);
}

SeccompFilter::SeccompFilter(SeccompFilter&& other) noexcept
    : program_(std::exchange(other.program_, {})), flags_(other.flags_) {}

SeccompFilter& SeccompFilter::operator=(SeccompFilter&& other) noexcept {
  program_ = std::exchange(other.program_, {});
  flags_ = other.flags_;
  return *this;
}

SeccompFilter::~SeccompFilter() = default;

absl::Status SeccompFilter::Load() {
  if (program_.empty()) {
    return absl::FailedPreconditionError("load seccomp filter: the filter was moved from");
  }
  sock_fprog prog{static_cast<unsigned short>(program_.size()), program_.data()};
  // What seccomp_load does, minus generating the program again (and without
  // its NO_NEW_PRIVS: berth-oci sets that itself when the spec asks).
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags_, &prog);
  if (rc < 0) return LastErrnoError("load seccomp filter");
  if (rc > 0) {  // TSYNC: the thread that could not be synchronized
    return absl::FailedPreconditionError(
        absl::StrCat("load seccomp filter: thread ", rc, " cannot take the filter (TSYNC)"));
  }
  return absl::OkStatus();
}

}  // namespace berth::oci
