#include "common/sqlite_db.h"

#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

TEST_CASE("sqlite_db: transactions from several threads on one connection take turns") {
  char dir[] = "/tmp/berth-sqlite-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  auto db =
      berth::SqliteDb::Open(std::string(dir) + "/test.db",
                            {"CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);"}, "test");
  REQUIRE(db.ok());
  constexpr int kThreads = 4, kEach = 100;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        absl::Status st = (*db)->Transaction([&]() -> absl::Status {
          auto put = (*db)->Prepare("INSERT INTO t (id, v) VALUES (?1, ?2)");
          if (!put.ok()) return put.status();
          return put->Bind(1, int64_t{t * kEach + i}).Bind(2, "x").Run();
        });
        if (!st.ok()) failures[static_cast<size_t>(t)]++;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) CHECK(f == 0);
  auto count = (*db)->Prepare("SELECT count(*) FROM t");
  REQUIRE(count.ok());
  REQUIRE(*count->Step());
  CHECK(count->Int(0) == kThreads * kEach);
  std::filesystem::remove_all(dir);
}
