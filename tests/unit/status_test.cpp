#include "common/status.h"

#include <catch2/catch.hpp>
#include <cerrno>

namespace {

absl::Status FailWith(int err) { return berth::ErrnoError(err, "open /nope"); }

absl::Status UsesReturnIfError(int err, bool* reached_end) {
  BERTH_RETURN_IF_ERROR(FailWith(err));
  *reached_end = true;
  return absl::OkStatus();
}

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  BERTH_ASSIGN_OR_RETURN(int half, Half(x));
  BERTH_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

}  // namespace

TEST_CASE("ErrnoError carries the message, code and errno") {
  absl::Status st = FailWith(ENOENT);
  CHECK(st.code() == absl::StatusCode::kNotFound);
  CHECK(st.message() == "open /nope: No such file or directory");
  CHECK(berth::ErrnoOf(st) == ENOENT);
  CHECK(FailWith(EPERM).code() == absl::StatusCode::kPermissionDenied);
  CHECK(FailWith(EEXIST).code() == absl::StatusCode::kAlreadyExists);
  CHECK(FailWith(EINVAL).code() == absl::StatusCode::kInvalidArgument);
  CHECK(FailWith(EIO).code() == absl::StatusCode::kInternal);
}

TEST_CASE("ErrnoError never turns a failure into OK") {
  absl::Status st = berth::ErrnoError(0, "weird");
  CHECK_FALSE(st.ok());
  CHECK(berth::ErrnoOf(st) == EIO);
}

TEST_CASE("LastErrnoError reads errno") {
  errno = EACCES;
  absl::Status st = berth::LastErrnoError("chmod x");
  CHECK(st.code() == absl::StatusCode::kPermissionDenied);
  CHECK(berth::ErrnoOf(st) == EACCES);
}

TEST_CASE("Annotate prefixes context and keeps the errno payload") {
  absl::Status st = berth::Annotate(FailWith(ENOENT), "load bundle");
  CHECK(st.message() == "load bundle: open /nope: No such file or directory");
  CHECK(st.code() == absl::StatusCode::kNotFound);
  CHECK(berth::ErrnoOf(st) == ENOENT);
  CHECK(berth::Annotate(absl::OkStatus(), "x").ok());
  CHECK(berth::ErrnoOf(absl::InternalError("plain")) == 0);
}

TEST_CASE("BERTH_RETURN_IF_ERROR returns early on error only") {
  bool reached = false;
  CHECK(UsesReturnIfError(ENOENT, &reached).code() == absl::StatusCode::kNotFound);
  CHECK_FALSE(reached);
}

TEST_CASE("BERTH_ASSIGN_OR_RETURN propagates values and errors") {
  REQUIRE(Quarter(8).ok());
  CHECK(*Quarter(8) == 2);
  CHECK(Quarter(6).status().message() == "odd");
  CHECK(Quarter(3).status().code() == absl::StatusCode::kInvalidArgument);
}
