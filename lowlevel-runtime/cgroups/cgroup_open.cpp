// OpenCgroup: the layout read from /proc, the path checked, the driver picked.
#include <memory>
#include <string>

#include "common/status.h"
#include "lowlevel-runtime/cgroups/cgroup.h"
#include "lowlevel-runtime/cgroups/cgroup_hybrid.h"
#include "lowlevel-runtime/cgroups/cgroup_layout.h"

namespace berth::oci {

absl::StatusOr<std::unique_ptr<Cgroup>> OpenCgroup(const std::string& cgroups_path,
                                                   const std::string& container_id) {
  BERTH_ASSIGN_OR_RETURN(std::string clean_path, CleanCgroupsPath(cgroups_path, container_id));
  BERTH_ASSIGN_OR_RETURN(CgroupLayout layout, ReadCgroupLayout());
  return NewCgroupForLayout(layout, clean_path);
}

}  // namespace berth::oci
