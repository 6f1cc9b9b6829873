// A daemon's SQLite database: one file (WAL journal, foreign keys on, a busy
// timeout), its schema created or migrated on open from the caller's list of
// migrations, every change in a transaction, so a kill -9 at any point leaves
// it consistent. berth-runtimed keeps its metadata in one, berthd its
// containers.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth {

// A prepared statement; binds are 1-based, as in SQLite.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
    other.stmt_ = nullptr;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  Statement& Bind(int index, absl::string_view text);
  Statement& Bind(int index, int64_t value);
  Statement& BindBlob(int index, absl::string_view bytes);
  // true: a row is ready (read it with Text/Int); false: done.
  absl::StatusOr<bool> Step();
  absl::Status Run();  // Step to the end
  std::string Text(int column) const;
  int64_t Int(int column) const;
  std::string Blob(int column) const;  // bytes, NULs included

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class SqliteDb {
 public:
  // migrations[i] moves the schema from version i to i + 1 (PRAGMA
  // user_version); owner names the program in the error for a newer schema.
  static absl::StatusOr<std::unique_ptr<SqliteDb>> Open(const std::string& path,
                                                        std::vector<const char*> migrations,
                                                        absl::string_view owner);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  absl::StatusOr<Statement> Prepare(absl::string_view sql);
  absl::Status Exec(absl::string_view sql);
  // BEGIN IMMEDIATE; body; COMMIT (ROLLBACK when body fails). One connection
  // serves every thread: transactions take turns (a second BEGIN on the same
  // connection would fail, and sqlite3_errmsg is the connection's, shared).
  template <typename Body>
  absl::Status Transaction(Body&& body) {
    std::lock_guard lock(transaction_mu_);  // recursive: a nested BEGIN fails in SQLite, not here
    if (absl::Status st = Exec("BEGIN IMMEDIATE"); !st.ok()) return st;
    absl::Status st = body();
    if (!st.ok()) {
      (void)Exec("ROLLBACK");
      return st;
    }
    return Exec("COMMIT");
  }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  absl::Status Migrate(const std::vector<const char*>& migrations, absl::string_view owner);
  sqlite3* db_;
  std::recursive_mutex transaction_mu_;
};

// The error SQLite reports for db, as an absl::Status (what: the operation).
absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what);

}  // namespace berth
