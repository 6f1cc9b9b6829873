#include "shim/task_oom.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fd_util.h"
#include "common/status.h"
#include "lowlevel-runtime/cgroups/cgroup_layout.h"

namespace berth::shim {

absl::StatusOr<std::vector<std::string>> CgroupDirsOf(pid_t pid) {
  BERTH_ASSIGN_OR_RETURN(oci::CgroupLayout layout, oci::ReadCgroupLayout());
  BERTH_ASSIGN_OR_RETURN(std::string text,
                         ReadFileToString(absl::StrCat("/proc/", pid, "/cgroup")));
  std::vector<std::string> dirs;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (f.size() != 3) continue;
    const oci::CgroupHierarchy* h = nullptr;
    if (f[0] == "0" && f[1].empty()) {
      if (layout.unified) h = &*layout.unified;
    } else {
      for (absl::string_view controller : absl::StrSplit(f[1], ',')) {
        if ((h = layout.FindV1(controller)) != nullptr) break;
      }
    }
    if (h != nullptr) dirs.push_back(oci::CgroupDirIn(*h, f[2]));
  }
  return dirs;
}

absl::StatusOr<std::unique_ptr<TaskOomWatch>> TaskOomWatch::Start(EventLoop& loop, pid_t pid,
                                                                  std::function<void()> on_oom) {
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> dirs, CgroupDirsOf(pid));
  BERTH_ASSIGN_OR_RETURN(oci::OomWatch watch, oci::OomWatch::Open(dirs));
  std::unique_ptr<TaskOomWatch> w(new TaskOomWatch(loop, std::move(watch)));
  TaskOomWatch* self = w.get();
  BERTH_RETURN_IF_ERROR(loop.Add(self->watch_.fd(), EPOLLIN, [self, on_oom](uint32_t) {
    if (self->watch_.Consume()) on_oom();
  }));
  return w;
}

TaskOomWatch::~TaskOomWatch() {
  if (loop_.Watching(watch_.fd())) loop_.Remove(watch_.fd());
}

}  // namespace berth::shim
