#include "store/views.h"

#include <functional>

#include "store/db.h"
#include "store/predictions.h"
#include "store/schema.h"

namespace vigil::store {
namespace {

// Runs a query, calling row for each row. false: it did not prepare (e.g. a model-stage
// table that does not exist yet).
bool Query(Db& db, const std::string& sql, const std::function<void(const Stmt&)>& row) {
  Result<Stmt> st = db.Prepare(sql);
  if (!st) return false;
  (void)st->ForEach(row);  // as before: a failing step ends the rows
  return true;
}

// The alert columns (kAlertColumns) of this store: a store no vigil with rul_hours has
// opened for writing yet (the views open it read-only) reads NULL for it.
std::string AlertColumns(Db& db) {
  bool has_rul = false;
  Query(db, "SELECT count(*) FROM pragma_table_info('alerts') WHERE name = 'rul_hours'",
        [&](const Stmt& st) { has_rul = st.Int(0) > 0; });
  return has_rul ? kAlertColumns : "machine_id, ts_ms, kind, level, value, message, NULL";
}

}  // namespace

Result<StoreStatus> ReadStatus(const std::string& db_path, const Config& config, bool label_counts) {
  Result<Db> db = Db::Open(db_path, OpenMode::kReadOnly);
  if (!db) return Status::NotFound("no feature store at " + db_path);
  StoreStatus out;
  bool ok = Query(*db, "SELECT machine_id, window_start_ms" + FeatureColumnList(config) + " FROM latest_features ORDER BY machine_id",
                  [&](const Stmt& st) {
                    MachineStatus m;
                    m.machine_id = st.Text(0);
                    m.window_start_ms = st.Int(1);
                    for (int i = 2; i < st.Columns(); ++i) m.values.emplace_back(st.ColumnName(i), st.OptDouble(i));
                    out.machines.push_back(std::move(m));
                  });
  if (!ok) return Status::InvalidArgument("the feature store's columns do not match the configuration");
  for (MachineStatus& m : out.machines) {
    Query(*db, "SELECT max(timestamp_ms) FROM failure_history WHERE machine_id = " + Quoted(m.machine_id),
          [&](const Stmt& st) {
            if (!st.IsNull(0)) m.last_failure_ms = st.Int(0);
          });
  }
  for (MachineStatus& m : out.machines) m.labels_counted = label_counts;
  // The model stage's table, when it exists (a failed prepare just means not yet).
  Query(*db, "SELECT machine_id, failure_probability_7d, anomaly_score, model_id FROM latest_predictions",
        [&](const Stmt& st) {
          const std::string id = st.Text(0);
          for (MachineStatus& m : out.machines) {
            if (m.machine_id != id) continue;
            if (!st.IsNull(1)) m.failure_probability = st.Double(1);
            if (!st.IsNull(2)) m.anomaly_score = st.Double(2);
            if (!st.IsNull(3)) m.model_id = st.Int(3);
          }
        });
  // Its own query: a store from before rul_hours lacks the column until the model stage opens it.
  Query(*db, "SELECT machine_id, rul_hours FROM latest_predictions WHERE rul_hours IS NOT NULL", [&](const Stmt& st) {
    const std::string id = st.Text(0);
    for (MachineStatus& m : out.machines) {
      if (m.machine_id == id) m.rul_hours = st.Double(1);
    }
  });
  if (label_counts) {
    // The processor's counts (one row a machine); a store it has not opened since they
    // came (it fills them then) is counted row by row.
    const bool kept = Query(*db, "SELECT machine_id, ones, zeros, nulls FROM label_counts", [&](const Stmt& st) {
      const std::string id = st.Text(0);
      for (MachineStatus& m : out.machines) {
        if (m.machine_id != id) continue;
        m.label1 = st.Int(1), m.label0 = st.Int(2), m.label_null = st.Int(3);
      }
    });
    if (!kept) Query(*db, "SELECT machine_id, label_failure_7d, count(*) FROM features GROUP BY 1, 2", [&](const Stmt& st) {
      std::string id = st.Text(0);
      for (MachineStatus& m : out.machines) {
        if (m.machine_id != id) continue;
        int64_t n = st.Int(2);
        if (st.IsNull(1)) m.label_null += n;
        else if (st.Int(1) == 1) m.label1 += n;
        else m.label0 += n;
      }
    });
  }
  Query(*db, "SELECT count(*) FROM batches", [&](const Stmt& st) { out.batches = st.Int(0); });
  Query(*db,
        "SELECT started_ms, finished_ms, segments, lines, readings, duplicates, failures, bad_lines, rows, outcome"
        " FROM batches ORDER BY id DESC LIMIT 1",
        [&](const Stmt& st) {
          BatchRecord b;
          b.started_ms = st.Int(0), b.finished_ms = st.Int(1);
          b.segments = st.Int(2), b.lines = st.Int(3);
          b.readings = st.Int(4), b.duplicates = st.Int(5);
          b.failures = st.Int(6), b.bad_lines = st.Int(7);
          b.rows = st.Int(8);
          b.outcome = st.Text(9);
          out.last_batch = b;
        });
  return out;
}

Result<Series> ReadSeries(const std::string& db_path, const Config& config, const SeriesQuery& q) {
  Result<Db> db = Db::Open(db_path, OpenMode::kReadOnly);
  if (!db) return Status::NotFound("no feature store at " + db_path);
  Series out;
  for (const SensorSpec& sp : config.sensors) out.columns.push_back(sp.field);
  for (const FeatureSpec& f : config.features) out.columns.push_back(f.name);
  out.values.resize(out.columns.size());
  const std::string range = " WHERE machine_id = " + Quoted(q.machine_id) + " AND window_start_ms >= " +
                            std::to_string(q.from_ms) + " AND window_start_ms < " + std::to_string(q.to_ms);
  const std::string bucket = "(window_start_ms - " + std::to_string(q.from_ms) + ") / " + std::to_string(q.step_ms);
  std::string sql = "SELECT " + bucket + " AS b";
  for (const std::string& c : out.columns) sql += ", avg(" + c + ")";
  sql += " FROM features" + range + " GROUP BY b ORDER BY b";
  // The same machines as /api/machines lists: an unknown one is NotFound, not an empty chart.
  bool known = false;
  Query(*db, "SELECT 1 FROM latest_features WHERE machine_id = " + Quoted(q.machine_id), [&](const Stmt&) { known = true; });
  if (!known) return Status::NotFound("no machine '" + q.machine_id + "' in the feature store");
  // Every bucket, empty ones as nulls: GROUP BY returns only the filled ones, and a chart
  // must show a gap rather than a line across it. The caller bounds the count.
  const int64_t span = q.to_ms - q.from_ms;
  const int64_t buckets = span / q.step_ms + (span % q.step_ms != 0);
  for (int64_t b = 0; b < buckets; ++b) out.t.push_back(q.from_ms + b * q.step_ms);
  for (auto& v : out.values) v.assign(out.t.size(), std::nullopt);
  const bool ok = Query(*db, sql, [&](const Stmt& st) {
    const int64_t b = st.Int(0);
    for (size_t i = 0; i < out.columns.size(); ++i) {
      const int col = static_cast<int>(i) + 1;
      if (!st.IsNull(col)) out.values[i][b] = st.Double(col);
    }
  });
  if (!ok) {
    return Status::InvalidArgument("the feature store's columns do not match the configuration: " + db->ErrorMessage());
  }
  Query(*db,
        "SELECT timestamp_ms, event_code FROM failure_history WHERE machine_id = " + Quoted(q.machine_id) +
            " AND timestamp_ms >= " + std::to_string(q.from_ms) + " AND timestamp_ms < " + std::to_string(q.to_ms) +
            " ORDER BY timestamp_ms",
        [&](const Stmt& st) { out.failures.emplace_back(st.Int(0), st.Text(1)); });
  // Tables of the model stage, when present (absent tables just fail to prepare).
  // The current model's (it scores the whole history once promoted); others are kept for audits.
  Query(*db,
        "SELECT " + bucket + " AS b, avg(failure_probability_7d) FROM predictions" + range +
            " AND model_id = (SELECT model_id FROM model_promotions WHERE rolled_back = 0 ORDER BY id DESC LIMIT 1)"
            " GROUP BY b ORDER BY b",
        [&](const Stmt& st) {
          // Over the same buckets as the values (gaps as nulls), once there is any prediction.
          if (out.predictions.empty()) out.predictions.resize(out.t.size());
          out.predictions[st.Int(0)] = st.Double(1);
        });
  Query(*db,
        "SELECT " + AlertColumns(*db) + " FROM alerts WHERE machine_id = " + Quoted(q.machine_id) +
            " AND ts_ms >= " + std::to_string(q.from_ms) + " AND ts_ms < " + std::to_string(q.to_ms) + " ORDER BY ts_ms",
        [&](const Stmt& st) { out.alerts.push_back(AlertFromRow(st, 0)); });
  return out;
}

std::vector<Alert> ReadAlerts(const std::string& db_path, const std::string& machine_id, int64_t limit) {
  std::vector<Alert> out;
  Result<Db> db = Db::Open(db_path, OpenMode::kReadOnly);
  if (!db) return out;
  // The table belongs to the model stage; until it exists there are no alerts.
  Result<Stmt> st = db->Prepare("SELECT " + AlertColumns(*db) +
                                " FROM alerts WHERE ?1 = '' OR machine_id = ?1 ORDER BY ts_ms DESC LIMIT ?2");
  if (!st) return out;
  st->Bind(1, machine_id).Bind(2, limit);
  (void)st->ForEach([&](const Stmt& row) { out.push_back(AlertFromRow(row, 0)); });
  return out;
}

}  // namespace vigil::store
