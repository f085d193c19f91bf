#!/usr/bin/env bash
# Model benchmark: `vigil train` on ROWS sampled feature rows (default 1,000,000: the
# issue's million) and scoring throughput (`vigil process` scoring every row), each next
# to Python's xgboost (Debian's python3-xgboost) doing the same on the same rows with the
# same parameters, measured in the same run. Peak RSS from /usr/bin/time.
# usage: bench/train.sh [-n ROWS] [-w WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=1000000 WORK=${TMPDIR:-/tmp}/vigil-bench-train
while getopts "n:w:" o; do case $o in n) ROWS=$OPTARG;; w) WORK=$OPTARG;; *) sed -n '2,6p' "$0"; exit 2;; esac; done
# VIGIL=path/to/vigil uses that binary instead of building build-bench (Release).
if [ -z "${VIGIL:-}" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DVIGIL_BUILD_TESTS=OFF >/dev/null
  cmake --build build-bench -j"$(nproc)" --target vigil >/dev/null
fi
VIGIL=${VIGIL:-build-bench/vigil}
rm -rf "$WORK"; mkdir -p "$WORK/data"
printf '[model]\nstride = "1ms"\nmin_failures = 3\n' > "$WORK/v.toml"
V="$VIGIL"
$V process --config "$WORK/v.toml" --data-dir "$WORK/data" --log-level warn >/dev/null 2>&1  # creates vigil.db
# 10 machines, one row per minute each; a label that depends on the features plus noise.
sqlite3 "$WORK/data/vigil.db" <<SQL
WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n < $ROWS - 1),
r AS (SELECT n, 'M' || (n % 10) AS m, 1760000000000 + (n / 10) * 60000 AS t,
             abs(random() % 1000) / 100.0 AS v, 40 + abs(random() % 600) / 10.0 AS temp,
             abs(random() % 1000) / 1000.0 AS noise FROM i)
INSERT INTO features(machine_id, window_start_ms, vibration_rms, temperature_celsius, vib_mean_5h, vib_std_5h,
                     vib_max_5h, temp_mean_24h, temp_max_24h, label_failure_7d)
SELECT m, t, v, temp, v * 0.9 + noise, noise, v + 1, temp - 2, temp + 3,
       CASE WHEN v * 0.9 + noise + (temp - 40) / 30.0 + noise * 2 > 7 THEN 1 ELSE 0 END FROM r;
INSERT INTO latest_features SELECT f.* FROM features f JOIN (SELECT machine_id, max(window_start_ms) AS w
  FROM features GROUP BY 1) l ON f.machine_id = l.machine_id AND f.window_start_ms = l.w;
WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < 29)
INSERT INTO failure_history SELECT 'M' || (n % 10), 1760000000000 + n * ($ROWS / 10 / 30) * 60000 + 1, 'F' FROM k;
SQL
/usr/bin/time -f "%e %M" -o "$WORK/t_train" $V train --config "$WORK/v.toml" --data-dir "$WORK/data" > "$WORK/train.out" 2>&1
/usr/bin/time -f "%e %M" -o "$WORK/t_score" $V process --config "$WORK/v.toml" --data-dir "$WORK/data" > "$WORK/score.out" 2>&1
SCORED=$(grep -oE 'scored [0-9]+' "$WORK/score.out" | grep -oE '[0-9]+')
TRAIN_ROWS=$(grep -oE 'training: [0-9]+' "$WORK/train.out" | grep -oE '[0-9]+')
# The baseline: the same rows, split, parameters and rounds with Python's xgboost.
cat > "$WORK/base.py" <<'PY'
import json, sqlite3, sys, time
import numpy as np, xgboost as xgb
db = sqlite3.connect(sys.argv[1] + "/vigil.db")
params = json.loads(db.execute("SELECT params FROM models ORDER BY id LIMIT 1").fetchone()[0])
split = db.execute("SELECT split_ms FROM models ORDER BY id LIMIT 1").fetchone()[0]
cols = params["columns"]
t0 = time.time()
rows = np.array(db.execute(f"SELECT window_start_ms, label_failure_7d, {', '.join(cols)} FROM features "
                           "WHERE label_failure_7d IS NOT NULL ORDER BY window_start_ms, machine_id").fetchall(), dtype=np.float64)
t, y, x = rows[:, 0], rows[:, 1], rows[:, 2:].astype(np.float32)
train = t + 7 * 86400000 < split
d = xgb.DMatrix(x[train], label=y[train], missing=np.nan)
bst = xgb.train({"objective": "binary:logistic", "tree_method": "hist", "max_depth": params["max_depth"],
                 "eta": params["eta"], "seed": params["seed"], "scale_pos_weight": params["scale_pos_weight"],
                 "nthread": 2}, d, num_boost_round=params["rounds"])
t1 = time.time()
dall = xgb.DMatrix(x, missing=np.nan)
p = bst.predict(dall)
t2 = time.time()
print(f"{t1 - t0:.2f} {len(x) / (t2 - t1):.0f} {int(train.sum())}")
PY
/usr/bin/time -f "%e %M" -o "$WORK/t_base" /usr/bin/python3 "$WORK/base.py" "$WORK/data" > "$WORK/base.out"
read -r vt vtkb < "$WORK/t_train"; read -r vs vskb < "$WORK/t_score"; read -r bt btkb < "$WORK/t_base"
read -r b_train_s b_score_rps b_rows < "$WORK/base.out"
OUT=bench/results/train-$(date -u +%Y%m%dT%H%M%SZ).txt; mkdir -p bench/results
{
  echo "# bench/train.sh -n $ROWS: $ROWS sampled rows, $TRAIN_ROWS training rows (python: $b_rows); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
  printf "%-44s %10s %14s %8s\n" run seconds "x python" "RSS MB"
  printf "%-44s %10s %14s %8d\n" "python xgboost: load + train (baseline)" "$b_train_s" 1.00 $((btkb / 1024))
  printf "%-44s %10s %14.2f %8d\n" "vigil train: load, split, train, evaluate" "$vt" "$(echo "$b_train_s / $vt" | bc -l)" $((vtkb / 1024))
  printf "%-44s %10s %14s %8s\n" run "rows/s" "x python" "RSS MB"
  printf "%-44s %10s %14s %8s\n" "python xgboost: predict in memory (baseline)" "$b_score_rps" 1.00 "-"
  r=$(echo "$SCORED / $vs" | bc -l)
  printf "%-44s %10.0f %14.2f %8d\n" "vigil process: score + write predictions" "$r" "$(echo "$r / $b_score_rps" | bc -l)" $((vskb / 1024))
} | tee "$OUT"
[ -n "${KEEP:-}" ] || rm -rf "$WORK"
