// The spec's linux.seccomp as a libseccomp filter.
#pragma once

#include <linux/filter.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/oci/runtime_spec.h"

namespace berth::oci {

// A compiled filter, not yet loaded. Built in the runtime before anything is
// set up, so that an unknown syscall name or action fails early with an error
// naming it ("linux.seccomp.syscalls[3].names: unknown syscall \"foo\"").
// Build compiles the BPF program (libseccomp's costly step) up front, so Load
// is a single seccomp(2) call that allocates nothing.
//
// With a cache_dir, a compiled program is kept there, with the filter as the
// spec states it and libseccomp's version, and reused by the next container
// with the same filter: compiling Docker's default profile costs
// tens of milliseconds, reading it back a few microseconds. A cache that
// cannot be read or written is skipped silently; the filter is compiled.
class SeccompFilter {
 public:
  static absl::StatusOr<SeccompFilter> Build(const Seccomp& spec,
                                             const std::string& cache_dir = "");
  SeccompFilter(SeccompFilter&& other) noexcept;
  SeccompFilter& operator=(SeccompFilter&& other) noexcept;
  SeccompFilter(const SeccompFilter&) = delete;
  SeccompFilter& operator=(const SeccompFilter&) = delete;
  ~SeccompFilter();

  // Loads the filter into the calling thread (TSYNC flag as the spec asks).
  // Without no_new_privs this needs CAP_SYS_ADMIN.
  absl::Status Load();

  // BPF instructions in the compiled program.
  size_t InstructionCount() const { return program_.size(); }

 private:
  SeccompFilter(std::vector<sock_filter> program, unsigned int flags)
      : program_(std::move(program)), flags_(flags) {}
  std::vector<sock_filter> program_;
  unsigned int flags_ = 0;  // SECCOMP_FILTER_FLAG_*
};

}  // namespace berth::oci
