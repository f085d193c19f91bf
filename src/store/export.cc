#include "store/export.h"

#include <cstdlib>
#include <map>
#include <optional>

#include "common/csv.h"
#include "common/remaining_life.h"
#include "common/timestamp.h"
#include "store/db.h"
#include "store/schema.h"

namespace vigil::store {

Result<int64_t> ExportCsv(const std::string& db_path, const Config& config, const ExportQuery& q,
                          std::FILE* out) {
  Result<Db> db = Db::Open(db_path, OpenMode::kReadOnly);
  if (!db) return Status::IoError("cannot open " + db_path + " (run `vigil process` first?)");
  const bool events = q.table == "failure_history";
  const std::string time_col = events ? "timestamp_ms" : "window_start_ms";
  std::string sql = events ? "SELECT machine_id, timestamp_ms, event_code FROM failure_history"
                           : "SELECT machine_id, window_start_ms" + FeatureColumnList(config) + " FROM " + q.table;
  sql += " WHERE " + time_col + " >= ?1 AND " + time_col + " < ?2";
  if (q.labelled_only && !events) sql += " AND label_failure_7d IS NOT NULL";
  if (!q.machines.empty()) {
    sql += " AND machine_id IN (";
    for (size_t i = 0; i < q.machines.size(); ++i) sql += (i ? ", ?" : "?") + std::to_string(i + 3);
    sql += ")";
  }
  sql += " ORDER BY machine_id, " + time_col;
  Result<Stmt> st = db->Prepare(sql);
  if (!st) {
    return Status::IoError("sqlite: " + db->ErrorMessage() + " (does the configuration match the database?)");
  }
  st->Bind(1, q.from_ms).Bind(2, q.until_ms);
  for (size_t i = 0; i < q.machines.size(); ++i) st->Bind(static_cast<int>(i + 3), q.machines[i]);
  const int ncol = st->Columns();
  // The remaining-useful-life label needs each machine's failures and watermark, as vigil
  // train reads them (store/training_data.cc).
  const bool rul = q.table == "features" && q.rul_cap_ms > 0;
  std::map<std::string, std::vector<int64_t>> failures;
  std::map<std::string, int64_t> watermark;
  if (rul) {
    Result<Stmt> wm = db->Prepare("SELECT machine_id, watermark_ms FROM watermarks");
    Result<Stmt> fh = db->Prepare("SELECT DISTINCT machine_id, timestamp_ms FROM failure_history ORDER BY 1, 2");
    if (!wm || !fh) return Status::IoError("sqlite: " + db->ErrorMessage());
    VIGIL_RETURN_IF_ERROR(wm->ForEach([&](const Stmt& r) { watermark[r.Text(0)] = r.Int(1); }));
    VIGIL_RETURN_IF_ERROR(fh->ForEach([&](const Stmt& r) { failures[r.Text(0)].push_back(r.Int(1)); }));
  }
  static const std::vector<int64_t> kNoFailures;
  // Header: the time column becomes an ISO-8601 column named without "_ms".
  std::fprintf(out, "machine_id,%s", events ? "timestamp_utc" : "window_start");
  for (int i = 2; i < ncol; ++i) {
    std::string name = ",";
    csv::AppendField(st->ColumnName(i), &name);
    std::fputs(name.c_str(), out);
  }
  if (rul) std::fputs(",label_rul_hours", out);
  std::fputc('\n', out);
  // The shortest of %.15g / %.17g that reads back as the same double.
  auto print_double = [out](double d) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.15g", d);
    if (std::strtod(buf, nullptr) != d) std::snprintf(buf, sizeof buf, "%.17g", d);
    std::fprintf(out, ",%s", buf);
  };
  int64_t rows = 0;
  Status s;
  for (;;) {
    Result<bool> row = st->Step();
    if (!row) {
      s = row.error();
      break;
    }
    if (!*row) break;
    // Text cells (machine ids, event codes from imports) through the shared CSV writer.
    std::string cell;
    csv::AppendField(st->Text(0), &cell);
    std::fprintf(out, "%s,%s", cell.c_str(), FormatTimestampMs(st->Int(1)).c_str());
    for (int i = 2; i < ncol; ++i) {
      switch (st->TypeOf(i)) {
        case Stmt::Type::kNull: std::fputc(',', out); break;
        case Stmt::Type::kInteger: std::fprintf(out, ",%lld", static_cast<long long>(st->Int(i))); break;
        case Stmt::Type::kFloat: print_double(st->Double(i)); break;
        default:
          cell = ",";
          csv::AppendField(st->Text(i), &cell);
          std::fputs(cell.c_str(), out);
      }
    }
    if (rul) {
      const std::string machine = st->Text(0);
      const int64_t t = st->Int(1);
      const auto f = failures.find(machine);
      const auto w = watermark.find(machine);
      const std::optional<int64_t> ms = RemainingLifeMs(t, f == failures.end() ? kNoFailures : f->second,
                                                        w == watermark.end() ? t : w->second, q.rul_cap_ms);
      if (ms) print_double(static_cast<double>(*ms) / 3'600'000.0);
      else std::fputc(',', out);
    }
    std::fputc('\n', out);
    ++rows;
  }
  if (std::ferror(out)) return Status::IoError("write error");
  if (!s.ok()) return s;
  return rows;
}

}  // namespace vigil::store
