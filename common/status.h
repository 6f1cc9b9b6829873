// Error helpers on absl::Status: errno-carrying errors and early-return macros.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth {

// Maps an errno value to the closest absl::StatusCode.
absl::StatusCode ErrnoToCode(int err);

// "what: strerror(err)" with a status code derived from err, e.g.
// ErrnoError(EPERM, "mount proc on /x/proc") -> PermissionDenied
// "mount proc on /x/proc: Operation not permitted".
absl::Status ErrnoError(int err, absl::string_view what);

// Same as ErrnoError(errno, what); read errno before anything can clobber it.
absl::Status LastErrnoError(absl::string_view what);

// Returns status with "context: " prepended to its message; OK stays OK.
absl::Status Annotate(const absl::Status& status, absl::string_view context);

// The errno an ErrnoError carries, or 0 when the status did not come from one.
int ErrnoOf(const absl::Status& status);

}  // namespace berth

#define BERTH_CONCAT_INNER_(a, b) a##b
#define BERTH_CONCAT_(a, b) BERTH_CONCAT_INNER_(a, b)

// Returns from the calling function when expr (an absl::Status) is not OK.
#define BERTH_RETURN_IF_ERROR(expr)             \
  do {                                          \
    if (absl::Status _st = (expr); !_st.ok()) { \
      return _st;                               \
    }                                           \
  } while (0)

// BERTH_ASSIGN_OR_RETURN(auto x, StatusOrExpr): declares/assigns the value or
// returns the error from the calling function.
#define BERTH_ASSIGN_OR_RETURN(lhs, expr) \
  BERTH_ASSIGN_OR_RETURN_IMPL_(BERTH_CONCAT_(_statusor_, __LINE__), lhs, expr)
#define BERTH_ASSIGN_OR_RETURN_IMPL_(var, lhs, expr) \
  auto var = (expr);                                 \
  if (!var.ok()) return std::move(var).status();     \
  lhs = std::move(var).value()
