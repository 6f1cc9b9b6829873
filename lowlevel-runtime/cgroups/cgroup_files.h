// cgroupfs file operations shared by the v1 and v2 drivers: one open and one
// write(2) per value, errors that name the file and the value.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth::oci {

// One value to write into a cgroup's interface file, as the drivers' pure
// resource conversions produce them (in order).
struct CgroupWrite {
  enum class IfMissing {
    kFail,  // the file must exist
    kWarn,  // skip with a warning (v1 memsw without swap accounting)
    kSkip,  // skip silently (v2 memory.swap.max "max"/"0" without swap)
  };
  // The controller whose hierarchy (v1) or whose availability (v2) the file
  // depends on: "memory", "cpu", "cpuset", "pids", "blkio" / "io", "hugetlb",
  // "devices", or "unified" for linux.resources.unified entries.
  std::string controller;
  std::string file;   // "memory.limit_in_bytes"
  std::string value;  // "1048576"
  // Written instead when `file` does not exist (blkio.weight -> blkio.bfq.weight).
  std::string fallback_file;
  std::string fallback_value;  // defaults to `value`
  IfMissing if_missing = IfMissing::kFail;

  bool operator==(const CgroupWrite&) const = default;
};

// Writes value to dir/file. On failure: "write VALUE to DIR/FILE: strerror"
// carrying the errno (see berth::ErrnoOf).
absl::Status WriteCgroupFile(const std::string& dir, absl::string_view file,
                             absl::string_view value);
// Reads dir/file; the trailing newline is removed.
absl::StatusOr<std::string> ReadCgroupFile(const std::string& dir, absl::string_view file);

// Applies one CgroupWrite into dir, honouring fallback_file and if_missing.
absl::Status ApplyCgroupWrite(const std::string& dir, const CgroupWrite& write);

// mkdir -p of a cgroup directory; appends the directories it created, the
// topmost first, to *created.
absl::Status MakeCgroupDir(const std::string& dir, std::vector<std::string>* created);

// Best-effort rmdir of what MakeCgroupDir created, deepest first (rollback).
void RemoveCreatedDirs(const std::vector<std::string>& created);

// Appends the pids in dir/cgroup.procs and in every descendant cgroup.
absl::Status CollectCgroupPids(const std::string& dir, std::vector<pid_t>* pids);

// Removes dir and its descendant cgroups, children first. A missing dir is OK.
// While a process remains: FailedPrecondition naming the cgroup and pids. An
// EBUSY with no process left (the kernel finishes exiting tasks
// asynchronously) is retried for a short while.
absl::Status RemoveCgroupDir(const std::string& dir);

// Checks that a name taken from the spec (a hugepage size, a unified key) is a
// plain file name: not empty, no "/", not "." or "..".
absl::Status CheckCgroupFileName(absl::string_view what, absl::string_view name);

// status with " suffix" appended to its message, code and errno kept.
absl::Status AppendToStatus(const absl::Status& status, absl::string_view suffix);

// Parses "key value" lines (cgroup.events, memory.stat) and returns key's value.
std::optional<std::string> FindKeyedValue(absl::string_view text, absl::string_view key);

}  // namespace berth::oci
