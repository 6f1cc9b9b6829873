#include "lowlevel-runtime/sealed_exe.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "common/fd_util.h"
#include "common/status.h"

extern char** environ;

namespace berth::oci {
namespace {

constexpr int kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

}  // namespace

absl::Status EnsureSealedExecutable(char** argv) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd self, OpenFile("/proc/self/exe", O_RDONLY));
  int seals = ::fcntl(self.Get(), F_GET_SEALS);
  if (seals >= 0 && (seals & kSeals) == kSeals) return absl::OkStatus();

  struct stat st;
  if (::fstat(self.Get(), &st) != 0) return LastErrnoError("stat /proc/self/exe");
  UniqueFd copy(::memfd_create("berth-oci", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!copy) return LastErrnoError("memfd_create");
  off_t offset = 0;
  while (offset < st.st_size) {
    ssize_t n =
        ::sendfile(copy.Get(), self.Get(), &offset, static_cast<size_t>(st.st_size - offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return LastErrnoError("copy the berth-oci binary into a memfd");
  }
  // F_SEAL_WRITE fails with EBUSY while the kernel still holds a reference
  // to a page the copy just wrote (seen once in a loaded CI run): retry.
  for (int attempt = 0;; ++attempt) {
    if (::fcntl(copy.Get(), F_ADD_SEALS, kSeals) == 0) break;
    if (errno != EBUSY || attempt == 20) return LastErrnoError("seal the memfd copy");
    ::usleep(1000);
  }
  ::syscall(SYS_execveat, copy.Get(), "", argv, environ, AT_EMPTY_PATH);
  return LastErrnoError("re-execute from the sealed copy");
}

}  // namespace berth::oci
