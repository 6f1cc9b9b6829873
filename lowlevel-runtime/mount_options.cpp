#include "lowlevel-runtime/mount_options.h"

#include <sys/mount.h>

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"

namespace berth::oci {
namespace {

struct FlagEffect {
  bool clear;
  unsigned long flag;
};

const std::map<std::string, FlagEffect>& FlagTable() {
  static const auto* table = new std::map<std::string, FlagEffect>{
      {"async", {true, MS_SYNCHRONOUS}},
      {"atime", {true, MS_NOATIME}},
      {"bind", {false, MS_BIND}},
      {"defaults", {false, 0}},
      {"dev", {true, MS_NODEV}},
      {"diratime", {true, MS_NODIRATIME}},
      {"dirsync", {false, MS_DIRSYNC}},
      {"exec", {true, MS_NOEXEC}},
      {"mand", {false, MS_MANDLOCK}},
      {"noatime", {false, MS_NOATIME}},
      {"nodev", {false, MS_NODEV}},
      {"nodiratime", {false, MS_NODIRATIME}},
      {"noexec", {false, MS_NOEXEC}},
      {"nomand", {true, MS_MANDLOCK}},
      {"norelatime", {true, MS_RELATIME}},
      {"nostrictatime", {true, MS_STRICTATIME}},
      {"nosuid", {false, MS_NOSUID}},
      {"rbind", {false, MS_BIND | MS_REC}},
      {"relatime", {false, MS_RELATIME}},
      {"remount", {false, MS_REMOUNT}},
      {"ro", {false, MS_RDONLY}},
      {"rw", {true, MS_RDONLY}},
      {"strictatime", {false, MS_STRICTATIME}},
      {"suid", {true, MS_NOSUID}},
      {"sync", {false, MS_SYNCHRONOUS}},
  };
  return *table;
}

const std::map<std::string, unsigned long>& PropagationTable() {
  static const auto* table = new std::map<std::string, unsigned long>{
      {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
      {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
      {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
      {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  return *table;
}

}  // namespace

MountOptions ParseMountOptions(const std::vector<std::string>& options) {
  MountOptions out;
  for (const std::string& option : options) {
    if (auto it = FlagTable().find(option); it != FlagTable().end()) {
      if (it->second.clear) {
        out.flags &= ~it->second.flag;
      } else {
        out.flags |= it->second.flag;
      }
      continue;
    }
    if (auto it = PropagationTable().find(option); it != PropagationTable().end()) {
      out.propagation.push_back(it->second);
      continue;
    }
    if (option == "rro") {
      out.recursive_readonly = true;
      continue;
    }
    if (option == "rrw" || option == "tmpcopyup") continue;
    if (!out.data.empty()) out.data += ",";
    out.data += option;
  }
  out.bind = (out.flags & MS_BIND) != 0;
  return out;
}

std::vector<std::string> KnownMountOptions() {
  std::vector<std::string> names;
  for (const auto& [name, effect] : FlagTable()) names.push_back(name);
  for (const auto& [name, flags] : PropagationTable()) names.push_back(name);
  for (const char* name : {"rro", "rrw", "tmpcopyup"}) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

unsigned long RootfsPropagationFlags(const std::string& propagation) {
  if (propagation.empty()) return MS_SLAVE | MS_REC;
  auto it = PropagationTable().find(propagation);
  return it == PropagationTable().end() ? (MS_SLAVE | MS_REC) : it->second;
}

}  // namespace berth::oci
