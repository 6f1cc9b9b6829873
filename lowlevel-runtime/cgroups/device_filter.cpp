#include "lowlevel-runtime/cgroups/device_filter.h"

// GCC 12 reports a false -Wstringop-overflow when a vector copies bpf_insn (a
// struct with 4-bit fields); the copies are plain 8-byte structs.
#pragma GCC diagnostic ignored "-Wstringop-overflow"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace berth::oci {
namespace {

// Instruction builders (the kernel's BPF_* macros, as functions).
bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn insn;
  std::memset(&insn, 0, sizeof insn);
  insn.code = code;
  insn.dst_reg = dst & 0xf;
  insn.src_reg = src & 0xf;
  insn.off = off;
  insn.imm = imm;
  return insn;
}
bpf_insn LoadWord(uint8_t dst, uint8_t src, int16_t off) {
  return Insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0);
}
bpf_insn Alu32Imm(uint8_t op, uint8_t dst, int32_t imm) {
  return Insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn Mov32Reg(uint8_t dst, uint8_t src) {
  return Insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn JumpImm(uint8_t op, uint8_t dst, int32_t imm, int16_t off) {
  return Insn(BPF_JMP | op | BPF_K, dst, 0, off, imm);
}
bpf_insn MovImm(uint8_t dst, int32_t imm) {
  return Insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
bpf_insn Exit() { return Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

int32_t AccessBits(const std::string& access) {
  int32_t bits = 0;
  for (char c : access) {
    if (c == 'r') bits |= BPF_DEVCG_ACC_READ;
    if (c == 'w') bits |= BPF_DEVCG_ACC_WRITE;
    if (c == 'm') bits |= BPF_DEVCG_ACC_MKNOD;
  }
  return bits;
}

}  // namespace

std::vector<bpf_insn> DeviceFilterProgram(const std::vector<DeviceCgroupRule>& rules) {
  // struct bpf_cgroup_dev_ctx { u32 access_type (access << 16 | type); u32 major; u32 minor; }
  std::vector<bpf_insn> prog = {
      LoadWord(BPF_REG_2, BPF_REG_1, 0), Alu32Imm(BPF_AND, BPF_REG_2, 0xffff),  // r2 = type
      LoadWord(BPF_REG_3, BPF_REG_1, 0), Alu32Imm(BPF_RSH, BPF_REG_3, 16),      // r3 = access
      LoadWord(BPF_REG_4, BPF_REG_1, 4),                                        // r4 = major
      LoadWord(BPF_REG_5, BPF_REG_1, 8),                                        // r5 = minor
  };
  // The last matching rule wins: test them last to first, the first match returns.
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    const DeviceCgroupRule& rule = *it;
    std::vector<bpf_insn> checks;  // each jumps past the rule (offset fixed below) on mismatch
    if (rule.type == "c" || rule.type == "b") {
      checks.push_back(JumpImm(BPF_JNE, BPF_REG_2,
                               rule.type == "c" ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK, 0));
    }
    int32_t access = AccessBits(rule.access);
    if (access != (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
      // The requested access must be within the rule's: (r3 & ~access) == 0.
      checks.push_back(Mov32Reg(BPF_REG_1, BPF_REG_3));
      checks.push_back(Alu32Imm(BPF_AND, BPF_REG_1, ~access));
      checks.push_back(JumpImm(BPF_JNE, BPF_REG_1, 0, 0));
    }
    if (rule.major) {
      checks.push_back(JumpImm(BPF_JNE, BPF_REG_4, static_cast<int32_t>(*rule.major), 0));
    }
    if (rule.minor) {
      checks.push_back(JumpImm(BPF_JNE, BPF_REG_5, static_cast<int32_t>(*rule.minor), 0));
    }
    // Jumps land after the two verdict instructions that follow the checks.
    for (size_t i = 0; i < checks.size(); ++i) {
      if (BPF_CLASS(checks[i].code) == BPF_JMP) {
        checks[i].off = static_cast<int16_t>(checks.size() - i - 1 + 2);
      }
    }
    prog.insert(prog.end(), checks.begin(), checks.end());
    prog.push_back(MovImm(BPF_REG_0, rule.allow ? 1 : 0));
    prog.push_back(Exit());
    // A rule without checks ("a *:* rwm") always matches: anything after it would
    // be unreachable, which the verifier refuses.
    if (checks.empty()) return prog;
  }
  prog.push_back(MovImm(BPF_REG_0, 0));  // no rule matched: deny
  prog.push_back(Exit());
  return prog;
}

absl::Status AttachDeviceFilter(int cgroup_dir_fd, const std::vector<DeviceCgroupRule>& rules) {
  std::vector<bpf_insn> prog = DeviceFilterProgram(rules);
  char license[] = "Apache";
  auto load_program = [&](char* log, uint32_t log_size) {
    union bpf_attr load;
    std::memset(&load, 0, sizeof load);
    load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    load.insns = reinterpret_cast<uint64_t>(prog.data());
    load.insn_cnt = static_cast<uint32_t>(prog.size());
    load.license = reinterpret_cast<uint64_t>(license);
    load.log_buf = reinterpret_cast<uint64_t>(log);
    load.log_size = log_size;
    load.log_level = log == nullptr ? 0 : 1;
    return static_cast<int>(::syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load));
  };
  // Without a verifier log first (a verbose log can overflow its buffer: ENOSPC);
  // on failure load again with one, for the error message.
  int fd = load_program(nullptr, 0);
  if (fd < 0) {
    int err = errno;
    std::string log(64 * 1024, '\0');
    (void)load_program(log.data(), static_cast<uint32_t>(log.size()));
    log.resize(std::strlen(log.c_str()));
    if (log.size() > 1024) log = "..." + log.substr(log.size() - 1024);
    return ErrnoError(err, absl::StrCat("load the cgroup v2 device filter (", prog.size(),
                                        " instructions)", log.empty() ? "" : ": ", log));
  }
  UniqueFd program(fd);
  // Programs attached with BPF_F_ALLOW_MULTI all run, and all must allow: an
  // update replaces the old filter rather than adding to it. As runc does, the
  // new one is attached before the old ones go, so no moment is unfiltered.
  BERTH_ASSIGN_OR_RETURN(std::vector<uint32_t> old_ids, AttachedDeviceFilters(cgroup_dir_fd));
  union bpf_attr attach;
  std::memset(&attach, 0, sizeof attach);
  attach.target_fd = static_cast<uint32_t>(cgroup_dir_fd);
  attach.attach_bpf_fd = static_cast<uint32_t>(program.Get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (::syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach) != 0) {
    return LastErrnoError("attach the device filter to the cgroup");
  }
  for (uint32_t id : old_ids) {
    union bpf_attr by_id;
    std::memset(&by_id, 0, sizeof by_id);
    by_id.prog_id = id;
    int old_fd = static_cast<int>(::syscall(SYS_bpf, BPF_PROG_GET_FD_BY_ID, &by_id, sizeof by_id));
    if (old_fd < 0) {
      if (errno == ENOENT) continue;  // gone meanwhile
      return LastErrnoError(absl::StrCat("open the old device filter (program id ", id, ")"));
    }
    UniqueFd old_program(old_fd);
    union bpf_attr detach;
    std::memset(&detach, 0, sizeof detach);
    detach.target_fd = static_cast<uint32_t>(cgroup_dir_fd);
    detach.attach_bpf_fd = static_cast<uint32_t>(old_program.Get());
    detach.attach_type = BPF_CGROUP_DEVICE;
    if (::syscall(SYS_bpf, BPF_PROG_DETACH, &detach, sizeof detach) != 0 && errno != ENOENT) {
      return LastErrnoError(absl::StrCat("detach the old device filter (program id ", id, ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint32_t>> AttachedDeviceFilters(int cgroup_dir_fd) {
  std::vector<uint32_t> ids(64);
  union bpf_attr query;
  std::memset(&query, 0, sizeof query);
  query.query.target_fd = static_cast<uint32_t>(cgroup_dir_fd);
  query.query.attach_type = BPF_CGROUP_DEVICE;
  query.query.prog_ids = reinterpret_cast<uint64_t>(ids.data());
  query.query.prog_cnt = static_cast<uint32_t>(ids.size());
  if (::syscall(SYS_bpf, BPF_PROG_QUERY, &query, sizeof query) != 0) {
    return LastErrnoError("list the cgroup's device filters");
  }
  ids.resize(query.query.prog_cnt);
  return ids;
}

}  // namespace berth::oci
