#include "common/sqlite_db.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace berth {
absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what) {
  std::string message =
      absl::StrCat(what, ": ", db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(message);
    case SQLITE_CONSTRAINT:
      return absl::AlreadyExistsError(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(message);
    default:
      return absl::InternalError(message);
  }
}

Statement& Statement::Bind(int index, absl::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

absl::StatusOr<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, rc, sqlite3_sql(stmt_));
}

absl::Status Statement::Run() {
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return absl::OkStatus();
  }
}

std::string Statement::Text(int column) const {
  const unsigned char* t = sqlite3_column_text(stmt_, column);
  return t != nullptr ? reinterpret_cast<const char*>(t) : "";
}

Statement& Statement::BindBlob(int index, absl::string_view bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}

std::string Statement::Blob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  return data != nullptr ? std::string(static_cast<const char*>(data), static_cast<size_t>(size))
                         : std::string();
}

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

absl::StatusOr<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path,
                                                         std::vector<const char*> migrations,
                                                         absl::string_view owner) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  std::unique_ptr<SqliteDb> db(new SqliteDb(raw));
  if (rc != SQLITE_OK) return SqliteError(raw, rc, absl::StrCat("open ", path));
  sqlite3_busy_timeout(raw, 5000);
  BERTH_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
  BERTH_RETURN_IF_ERROR(db->Exec("PRAGMA synchronous=NORMAL"));
  BERTH_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  BERTH_RETURN_IF_ERROR(db->Migrate(migrations, owner));
  return db;
}

SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

absl::StatusOr<Statement> SqliteDb::Prepare(absl::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, absl::StrCat("prepare ", sql));
  return Statement(db_, stmt);
}

absl::Status SqliteDb::Exec(absl::string_view sql) {
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, text.substr(0, 60));
  return absl::OkStatus();
}

absl::Status SqliteDb::Migrate(const std::vector<const char*>& migrations,
                               absl::string_view owner) {
  return Transaction([&]() -> absl::Status {
    BERTH_ASSIGN_OR_RETURN(Statement version, Prepare("PRAGMA user_version"));
    BERTH_ASSIGN_OR_RETURN(bool row, version.Step());
    int64_t current = row ? version.Int(0) : 0;
    const auto kLatest = static_cast<int64_t>(migrations.size());
    if (current > kLatest) {
      return absl::FailedPreconditionError(absl::StrCat("database schema version ", current,
                                                        " is newer than this ", owner, "'s (",
                                                        kLatest, ")"));
    }
    for (int64_t v = current; v < kLatest; ++v) {
      BERTH_RETURN_IF_ERROR(Exec(migrations[static_cast<size_t>(v)]));
    }
    return Exec(absl::StrCat("PRAGMA user_version = ", kLatest));
  });
}

}  // namespace berth
