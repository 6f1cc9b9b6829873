// berthd's json-file log driver: the options (dockerd's validation), the
// writer's rotation, and the reader across rotated files and a following read.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/byte_size.h"
#include "engine/daemon/json_file_log.h"
#include "engine/daemon/json_log_reader.h"
#include "engine/daemon/log_config.h"

using namespace berth::engine;

namespace {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/berth-json-log-test.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

std::vector<std::string> Texts(const std::vector<LogMessage>& messages) {
  std::vector<std::string> out;
  for (const auto& m : messages) out.push_back(m.text);
  return out;
}

}  // namespace

TEST_CASE("json-file: sizes in go-units' decimal and binary units") {
  CHECK(*berth::FromHumanSize("10m") == 10'000'000);
  CHECK(*berth::FromHumanSize("1.5k") == 1500);
  CHECK(*berth::FromHumanSize("20 MB") == 20'000'000);
  CHECK(*berth::FromHumanSize("7") == 7);
  CHECK(*berth::RAMInBytes("1k") == 1024);
  CHECK(berth::FromHumanSize("lots").status().message() == "invalid size: 'lots'");
  CHECK_FALSE(berth::FromHumanSize("1.k").ok());
  CHECK_FALSE(berth::FromHumanSize("-1m").ok());
  CHECK_FALSE(berth::FromHumanSize("1mx").ok());
}

TEST_CASE("json-file: the LogConfig stored, with the daemon's options filled in") {
  auto resolved = ResolveLogConfig(nullptr, kDefaultLogOpts);
  REQUIRE(resolved.ok());
  CHECK(*resolved == nlohmann::json{{"Type", "json-file"},
                                    {"Config", {{"max-size", "20m"}, {"max-file", "5"}}}});
  // The container's own keys win; the rest come from the daemon.
  resolved =
      ResolveLogConfig({{"Type", "json-file"}, {"Config", {{"max-size", "1m"}}}}, kDefaultLogOpts);
  REQUIRE(resolved.ok());
  CHECK((*resolved)["Config"] == nlohmann::json{{"max-size", "1m"}, {"max-file", "5"}});
  // none keeps nothing and takes no defaults.
  resolved = ResolveLogConfig({{"Type", "none"}}, kDefaultLogOpts);
  REQUIRE(resolved.ok());
  CHECK((*resolved)["Config"].empty());
}

TEST_CASE("json-file: bad options are refused in dockerd's words") {
  auto error = [](const nlohmann::json& config, const char* type = "json-file") {
    auto r = ResolveLogConfig({{"Type", type}, {"Config", config}}, {});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    return std::string(r.status().message());
  };
  CHECK(error({{"colour", "red"}}) == "unknown log opt 'colour' for json-file log driver");
  CHECK(error({{"max-size", "0"}}) ==
        "failed to initialize logging driver: max-size must be a positive number");
  CHECK(error({{"max-file", "0"}}) ==
        "failed to initialize logging driver: max-file cannot be less than 1");
  CHECK(error({{"max-file", "two"}}) ==
        "failed to initialize logging driver: strconv.Atoi: parsing \"two\": invalid syntax");
  CHECK(error({{"labels-regex", "("}}).find("error parsing regexp") != std::string::npos);
  CHECK(error({}, "syslog") ==
        "error looking up logging plugin syslog: plugin \"syslog\" not found");
  CHECK(error({{"max-size", 5}}) == "log opt 'max-size' must be a string");
}

TEST_CASE("json-file: attrs from the labels and env options, by key") {
  nlohmann::json config = {{"Type", "json-file"},
                           {"Config", {{"labels", "app,missing"}, {"env-regex", "^MO"}}}};
  auto options = JsonFileOptionsFor(config, {{"app", "web"}, {"tier", "x"}},
                                    {"MODE=a b", "MOOD=fine", "OTHER=1", "NOEQUALS"});
  REQUIRE(options.ok());
  using Attrs = std::vector<std::pair<std::string, std::string>>;
  CHECK(options->attrs == Attrs{{"MODE", "a b"}, {"MOOD", "fine"}, {"app", "web"}});
}

TEST_CASE("json-file: rotation keeps max-file files and the reader reads them in order") {
  TempDir dir;
  const std::string path = dir.path + "/c-json.log";
  JsonFileOptions options;
  options.max_size = 1000;
  options.max_files = 3;
  options.attrs = {{"app", "web"}};
  auto log = JsonFileLog::Open(path, options);
  REQUIRE(log.ok());
  JsonLogReader follower(path);
  REQUIRE(follower.Next()->empty());  // nothing yet: the follower is at the start
  std::vector<std::string> followed;
  for (int i = 1; i <= 200; ++i) {
    (*log)->Write(StreamKind::kStdout, absl::StrCat("line-", i, "\n"));
    if (i % 5 == 0) {  // the follower reads between writes, through the rotations
      for (auto& t : Texts(*follower.Next())) followed.push_back(t);
    }
  }
  CHECK(followed.size() == 200);
  for (size_t i = 0; i < followed.size(); ++i) {
    CHECK(followed[i] == absl::StrCat("line-", i + 1, "\n"));
  }
  CHECK(std::filesystem::exists(path + ".1"));
  CHECK(std::filesystem::exists(path + ".2"));
  CHECK_FALSE(std::filesystem::exists(path + ".3"));
  for (const char* suffix : {"", ".1", ".2"}) {
    CHECK(std::filesystem::file_size(path + suffix) < 1100);
  }
  // A new reader: the rotated files, oldest first, then the live one; the
  // newest lines, contiguous, ending at the last.
  auto all = JsonLogReader(path).Next();
  REQUIRE(all.ok());
  REQUIRE(all->size() > 20);
  const size_t first = 200 - all->size() + 1;
  for (size_t i = 0; i < all->size(); ++i) {
    CHECK((*all)[i].text == absl::StrCat("line-", first + i, "\n"));
  }
  using Attrs = std::vector<std::pair<std::string, std::string>>;
  CHECK((*all)[0].attrs == Attrs{{"app", "web"}});
}

TEST_CASE("json-file: max-file 1 empties the file; a partial line waits for its newline") {
  TempDir dir;
  const std::string path = dir.path + "/c-json.log";
  JsonFileOptions options;
  options.max_size = 500;
  auto log = JsonFileLog::Open(path, options);
  REQUIRE(log.ok());
  JsonLogReader follower(path);
  std::vector<std::string> followed;
  for (int i = 1; i <= 50; ++i) {
    (*log)->Write(StreamKind::kStderr, absl::StrCat("e", i, "\n"));
    for (auto& t : Texts(*follower.Next())) followed.push_back(t);
  }
  CHECK(followed.size() == 50);
  CHECK(followed.back() == "e50\n");
  CHECK_FALSE(std::filesystem::exists(path + ".1"));
  CHECK(std::filesystem::file_size(path) < 600);
  (*log)->Write(StreamKind::kStdout, "no newline yet");
  CHECK(follower.Next()->empty());
  (*log)->Write(StreamKind::kStdout, ", now\n");
  auto next = follower.Next();
  REQUIRE(next->size() == 1);
  CHECK((*next)[0].text == "no newline yet, now\n");
  CHECK((*next)[0].stream == StreamKind::kStdout);
}

TEST_CASE("json-file: a follower racing the writer's rotations gets every line once, in order") {
  TempDir dir;
  const std::string path = dir.path + "/c-json.log";
  JsonFileOptions options;
  options.max_size = 2000;  // a rotation every ~30 lines
  options.max_files = 200;  // enough that nothing rotates away before it is read
  auto log = JsonFileLog::Open(path, options);
  REQUIRE(log.ok());
  constexpr int kLines = 5000;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 1; i <= kLines; ++i) {
      (*log)->Write(StreamKind::kStdout, absl::StrCat("line-", i, "\n"));
    }
    done.store(true);
  });
  JsonLogReader follower(path);
  std::vector<std::string> followed;
  for (;;) {
    const bool finished = done.load();
    auto batch = follower.Next();
    REQUIRE(batch.ok());
    for (auto& t : Texts(*batch)) followed.push_back(std::move(t));
    if (finished) break;
  }
  writer.join();
  REQUIRE(followed.size() == kLines);
  for (int i = 0; i < kLines; ++i) {
    if (followed[i] != absl::StrCat("line-", i + 1, "\n")) {
      FAIL("line " << i << " is " << followed[i]);
    }
  }
}

TEST_CASE("json-file: --tail reads the last lines back across rotated files, then follows") {
  TempDir dir;
  const std::string path = dir.path + "/c-json.log";
  JsonFileOptions options;
  options.max_size = 1000;
  options.max_files = 4;
  auto log = JsonFileLog::Open(path, options);
  REQUIRE(log.ok());
  for (int i = 1; i <= 100; ++i) (*log)->Write(StreamKind::kStdout, absl::StrCat("l", i, "\n"));
  (*log)->Write(StreamKind::kStdout, "partial, no newline yet");
  auto all = JsonLogReader(path).Next();
  REQUIRE(all.ok());
  const std::vector<std::string> kept = Texts(*all);
  REQUIRE(kept.size() > 40);  // more than the live file holds: the tail spans files
  auto tail = [&](size_t n) {
    auto got = JsonLogReader(path).Tail(n);
    REQUIRE(got.ok());
    return Texts(*got);
  };
  CHECK(tail(0).empty());
  CHECK(tail(1) == std::vector<std::string>{"l100\n"});
  CHECK(tail(5) == std::vector<std::string>(kept.end() - 5, kept.end()));
  CHECK(tail(40) == std::vector<std::string>(kept.end() - 40, kept.end()));
  CHECK(tail(kept.size()) == kept);
  CHECK(tail(100000) == kept);
  // Following after a tail: the partial line once it ends, and what comes next.
  JsonLogReader reader(path);
  CHECK(Texts(*reader.Tail(2)) == std::vector<std::string>{"l99\n", "l100\n"});
  (*log)->Write(StreamKind::kStdout, " now\nl101\n");
  CHECK(Texts(*reader.Next()) ==
        std::vector<std::string>{"partial, no newline yet now\n", "l101\n"});
}
