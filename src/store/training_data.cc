#include "store/training_data.h"

#include <algorithm>

#include "store/db.h"

namespace vigil::store {

Result<LabelledRows> ReadLabelled(const std::string& db_path, const std::vector<std::string>& columns,
                                  const std::string& vibration_field, int64_t stride_ms, int64_t from_ms,
                                  int64_t until_ms) {
  Result<Db> db = Db::Open(db_path, OpenMode::kReadOnly);
  if (!db) return Status::NotFound("no feature store at " + db_path + " (run vigil process first)");
  std::string cols;
  for (const std::string& c : columns) cols += ", f." + c;
  // The first labelled row of each machine in each stride bucket.
  const std::string sql =
      "SELECT f.machine_id, f.window_start_ms, f.label_failure_7d" + cols +
      (vibration_field.empty() ? std::string(", NULL") : ", f." + vibration_field) +
      " FROM features f JOIN (SELECT machine_id, min(window_start_ms) AS w FROM features"
      " WHERE label_failure_7d IS NOT NULL AND window_start_ms >= ?1 AND window_start_ms < ?2"
      " GROUP BY machine_id, window_start_ms / ?3) s ON f.machine_id = s.machine_id AND f.window_start_ms = s.w"
      " ORDER BY f.window_start_ms, f.machine_id";
  Result<Stmt> st = db->Prepare(sql);
  if (!st) return Status::InvalidArgument("the feature store does not match the configuration: " + db->ErrorMessage());
  st->Bind(1, from_ms).Bind(2, until_ms).Bind(3, std::max<int64_t>(stride_ms, 1));
  const int n = static_cast<int>(columns.size());
  LabelledRows d;
  for (;;) {
    Result<bool> row = st->Step();
    if (!row || !*row) break;  // like the reader before: an error ends the rows
    d.machine.push_back(st->Text(0));
    d.t.push_back(st->Int(1));
    d.y.push_back(static_cast<int>(st->Int(2)));
    for (int i = 0; i < n; ++i) d.x.push_back(st->FloatOrNaN(3 + i));
    d.vibration.push_back(st->OptDouble(3 + n));
  }
  // The watermarks say which labels were free to come out either way (model/dataset.h).
  if (Result<Stmt> wm = db->Prepare("SELECT machine_id, watermark_ms FROM watermarks"); wm) {
    for (;;) {
      Result<bool> row = wm->Step();
      if (!row || !*row) break;
      d.watermark[wm->Text(0)] = wm->Int(1);
    }
  }
  if (Result<Stmt> lf = db->Prepare("SELECT DISTINCT machine_id, timestamp_ms FROM failure_history ORDER BY 1, 2"); lf) {
    for (;;) {
      Result<bool> row = lf->Step();
      if (!row || !*row) break;
      d.failures[lf->Text(0)].push_back(lf->Int(1));
      d.last_failure[lf->Text(0)] = lf->Int(1);
    }
  }
  return d;
}

}  // namespace vigil::store
