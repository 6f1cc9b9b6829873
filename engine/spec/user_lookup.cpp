#include "engine/spec/user_lookup.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fd_util.h"
#include "common/status.h"

namespace berth::engine::spec {
namespace {

constexpr int64_t kMaxId = std::numeric_limits<int32_t>::max();  // moby: 32-bit safe
constexpr off_t kMaxFileSize = 32 << 20;
constexpr char kNoPasswdEntries[] = "no matching entries in passwd file";
constexpr char kNoGroupEntries[] = "no matching entries in group file";

struct PasswdEntry {
  std::string name;
  int64_t uid = 0;
  int64_t gid = 0;
};

struct GroupEntry {
  std::string name;
  int64_t gid = 0;
  std::vector<std::string> members;
};

// Go's strconv.Atoi as moby's parser uses it: a bad number reads as 0.
int64_t LenientNumber(absl::string_view text) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value)) return 0;
  return value;
}

// Non-blank lines, trimmed; '#' comments skipped (glibc's rule).
std::vector<std::vector<absl::string_view>> Records(absl::string_view content) {
  std::vector<std::vector<absl::string_view>> records;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    records.push_back(absl::StrSplit(line, ':'));
  }
  return records;
}

std::vector<PasswdEntry> ParsePasswd(absl::string_view content) {
  std::vector<PasswdEntry> entries;
  for (const auto& fields : Records(content)) {
    PasswdEntry entry;
    entry.name = std::string(fields[0]);
    if (fields.size() > 2) entry.uid = LenientNumber(fields[2]);
    if (fields.size() > 3) entry.gid = LenientNumber(fields[3]);
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::vector<GroupEntry> ParseGroup(absl::string_view content) {
  std::vector<GroupEntry> entries;
  for (const auto& fields : Records(content)) {
    GroupEntry entry;
    entry.name = std::string(fields[0]);
    if (fields.size() > 2) entry.gid = LenientNumber(fields[2]);
    if (fields.size() > 3 && !fields[3].empty()) {
      for (absl::string_view member : absl::StrSplit(fields[3], ',')) {
        entry.members.emplace_back(member);
      }
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

// A user or group argument: a name, or a number that always means an id.
struct IdArg {
  std::string name;
  int64_t id = 0;
  bool numeric = false;
};

absl::Status RangeError() {
  return absl::InvalidArgumentError(absl::StrCat("uids and gids must be in range 0-", kMaxId));
}

absl::StatusOr<std::optional<IdArg>> ParseIdArg(absl::string_view text) {
  if (text.empty()) return std::optional<IdArg>();
  IdArg arg;
  arg.name = std::string(text);
  // Go's Atoi: an optional sign then digits; anything else is a name.
  absl::string_view digits = text;
  if (digits[0] == '+' || digits[0] == '-') digits.remove_prefix(1);
  bool all_digits = !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
  if (!all_digits) return std::optional<IdArg>(std::move(arg));
  if (!absl::SimpleAtoi(text, &arg.id) || arg.id < 0 || arg.id > kMaxId) return RangeError();
  arg.numeric = true;
  return std::optional<IdArg>(std::move(arg));
}

bool Matches(const IdArg& arg, const std::string& name, int64_t id) {
  return arg.numeric ? arg.id == id : arg.name == name;
}

absl::Status CheckRange(int64_t id) {
  if (id < 0 || id > kMaxId) return RangeError();
  return absl::OkStatus();
}

// The fd of `path` under the root fd, resolved with RESOLVE_IN_ROOT.
absl::StatusOr<UniqueFd> OpenInRoot(int root_fd, const std::string& path, int flags) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long fd = ::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof(how));
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    if (errno != EINTR && errno != EAGAIN) break;
  }
  return LastErrnoError(absl::StrCat("open ", path, " in the container's root filesystem"));
}

}  // namespace

absl::StatusOr<std::optional<std::string>> ReadFileInRoot(const std::string& rootfs,
                                                          const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd root, OpenFile(rootfs, O_PATH | O_DIRECTORY));
  auto file = OpenInRoot(root.Get(), path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
  if (!file.ok()) {
    int err = ErrnoOf(file.status());
    if (err == ENOENT || err == ENOTDIR) return std::optional<std::string>();
    return file.status();
  }
  struct stat st {};
  if (::fstat(file->Get(), &st) != 0) return LastErrnoError(absl::StrCat("stat ", path));
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " in the container's root filesystem is not a regular file"));
  }
  if (st.st_size > kMaxFileSize) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " in the container's root filesystem is too large"));
  }
  BERTH_ASSIGN_OR_RETURN(std::string content, ReadAll(file->Get()));
  return std::optional<std::string>(std::move(content));
}

absl::StatusOr<User> ResolveUser(absl::string_view user, const std::optional<std::string>& passwd,
                                 const std::optional<std::string>& group,
                                 const std::vector<std::string>& group_add) {
  absl::string_view user_part = user;
  absl::string_view group_part;
  if (size_t colon = user.find(':'); colon != absl::string_view::npos) {
    user_part = user.substr(0, colon);
    group_part = user.substr(colon + 1);
  }
  BERTH_ASSIGN_OR_RETURN(std::optional<IdArg> user_arg, ParseIdArg(user_part));
  BERTH_ASSIGN_OR_RETURN(std::optional<IdArg> group_arg, ParseIdArg(group_part));

  int64_t uid = 0;
  int64_t gid = 0;
  std::vector<uint32_t> sgids;
  std::string matched_name;
  const PasswdEntry* found = nullptr;
  std::vector<PasswdEntry> users = passwd ? ParsePasswd(*passwd) : std::vector<PasswdEntry>();
  for (const PasswdEntry& entry : users) {
    // No user given: the entry of the default uid (0), for its gid and groups.
    if (user_arg ? Matches(*user_arg, entry.name, entry.uid) : entry.uid == uid) {
      found = &entry;  // first match wins
      break;
    }
  }
  if (found != nullptr) {
    matched_name = found->name;
    uid = found->uid;
    gid = found->gid;
  } else if (user_arg) {
    if (!user_arg->numeric) {
      return absl::InvalidArgumentError(
          absl::StrCat("unable to find user ", user_arg->name, ": ", kNoPasswdEntries));
    }
    uid = user_arg->id;
  }

  std::vector<GroupEntry> groups = group ? ParseGroup(*group) : std::vector<GroupEntry>();
  if (group_arg) {
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const GroupEntry& g) { return Matches(*group_arg, g.name, g.gid); });
    if (it != groups.end()) {
      gid = it->gid;
    } else if (group_arg->numeric) {
      gid = group_arg->id;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unable to find group ", group_arg->name, ": ", kNoGroupEntries));
    }
  } else if (!matched_name.empty()) {
    // Supplementary groups only in the implicit form: every group listing the user.
    for (const GroupEntry& g : groups) {
      if (std::find(g.members.begin(), g.members.end(), matched_name) != g.members.end()) {
        BERTH_RETURN_IF_ERROR(CheckRange(g.gid));
        sgids.push_back(static_cast<uint32_t>(g.gid));
      }
    }
  }
  BERTH_RETURN_IF_ERROR(CheckRange(uid));
  BERTH_RETURN_IF_ERROR(CheckRange(gid));

  // HostConfig.GroupAdd: names must exist, numbers are taken as they are.
  for (const std::string& extra : group_add) {
    BERTH_ASSIGN_OR_RETURN(std::optional<IdArg> arg, ParseIdArg(extra));
    if (!arg) {
      return absl::InvalidArgumentError(absl::StrCat("unable to find group : ", kNoGroupEntries));
    }
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const GroupEntry& g) { return Matches(*arg, g.name, g.gid); });
    int64_t extra_gid = 0;
    if (it != groups.end()) {
      extra_gid = it->gid;
    } else if (arg->numeric) {
      extra_gid = arg->id;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unable to find group ", arg->name, ": ", kNoGroupEntries));
    }
    BERTH_RETURN_IF_ERROR(CheckRange(extra_gid));
    auto value = static_cast<uint32_t>(extra_gid);
    if (std::find(sgids.begin(), sgids.end(), value) == sgids.end()) sgids.push_back(value);
  }

  User out;
  out.uid = static_cast<uint32_t>(uid);
  out.gid = static_cast<uint32_t>(gid);
  out.additional_gids = std::move(sgids);
  return out;
}

absl::StatusOr<User> LookupUser(const std::string& rootfs, const std::string& user,
                                const std::vector<std::string>& group_add) {
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> passwd, ReadFileInRoot(rootfs, "/etc/passwd"));
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> group, ReadFileInRoot(rootfs, "/etc/group"));
  return ResolveUser(user, passwd, group, group_add);
}

}  // namespace berth::engine::spec
