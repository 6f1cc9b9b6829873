#include "common/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

namespace {
bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1; }
}  // namespace

TEST_CASE("UniqueFd closes on destruction") {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(raw >= 0);
  {
    berth::UniqueFd fd(raw);
    CHECK(fd.Valid());
  }
  CHECK_FALSE(IsOpen(raw));
}

TEST_CASE("UniqueFd moves ownership") {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  berth::UniqueFd a(raw);
  berth::UniqueFd b(std::move(a));
  CHECK_FALSE(a.Valid());
  CHECK(b.Get() == raw);
  berth::UniqueFd c;
  c = std::move(b);
  CHECK(c.Get() == raw);
  CHECK(IsOpen(raw));
}

TEST_CASE("UniqueFd Release and Reset") {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  berth::UniqueFd fd(raw);
  int released = fd.Release();
  CHECK(released == raw);
  CHECK_FALSE(fd.Valid());
  CHECK(IsOpen(raw));
  fd.Reset(raw);
  int other = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  fd.Reset(other);
  CHECK_FALSE(IsOpen(raw));
  CHECK(IsOpen(other));
  fd.Reset();
  CHECK_FALSE(IsOpen(other));
}
