#!/usr/bin/env bash
# NASA C-MAPSS FD001 end to end (../shared/data/cmapss-fd001): "fails within 30 cycles"
# on the 100 test engines' last rows, vigil beside Python's xgboost in the same run.
#
#   1. train_FD001.txt and test_FD001.txt -> the contract's long CSV (bench/cmapss_long.awk:
#      one cycle = one hour from 2025-01-01), and a failures CSV for the training engines
#      (each fails at its last cycle; the test engines have no failure).
#   2. Training engines: vigil import, vigil process (features from one [[feature_templates]]
#      entry: 14 informative sensors x mean/slope x 5/10/20/30/50/100/150/200 h = 224 columns),
#      vigil train with model.split = "machine_kfold" (-k; grouped 5-fold by engine,
#      model.folds: -m 'folds = K') and model.threshold_goal (default "f1"): the threshold is
#      chosen on the pooled out-of-fold predictions of every training engine, so on training
#      engines only. -k machine: 25% of the engines held out, the threshold chosen on them
#      (the benchmark's split until the development folds chose k-fold: BENCHMARKS.md).
#   3. Test engines, in a data directory of their own (they never train): vigil import,
#      vigil process, vigil export --table latest_features (each engine's last row),
#      vigil predict --model <the trained model file> --input those rows.
#   4. Truth: RUL_FD001.txt (an engine "fails within 30 cycles" when its true RUL <= 30).
#      Precision, recall, F1 at the threshold vigil chose; ROC AUC.
#   5. Baseline: Python's xgboost (Debian python3-xgboost) trained on the rows the final
#      model trained on (vigil export of the training engines: labelled rows, all of them
#      label-complete here), with the model's recorded parameters, scored on the same test
#      rows, at the same threshold.
#
#   6. Remaining useful life (vigil train --rul-cap, default 125h: the field's usual cap of 125
#      cycles): vigil train's regression model, rul_hours of vigil predict on the same last
#      rows against RUL_FD001.txt: RMSE (against the true RUL, and against it capped) and the
#      PHM08 score, beside Python's xgboost reg:squarederror on the same rows and labels.
#
#   Development (-d FOLD, 0-3): train_FD001.txt only, test_FD001.txt and RUL_FD001.txt are
#      not read. The 100 training engines in 4 folds by unit number ((unit - 1) % 4 == FOLD is
#      held out, 25 engines); the other 75 are the "training engines" above; each held-out
#      engine is cut at 4 random cycles (seed -s, default 1; true RUL uniform in
#      [5, min(150, life - 31)], so at least 31 cycles remain as in the test set) and each
#      cut is a "test engine" (100 of them) with its true RUL: the same pipeline, the same
#      figures, on engines the model never saw. Choices are made on these, not on the test set.
#      As 100 cuts hold only ~13 failing rows (one row moves F1 by 0.03-0.04), the 25 held-out
#      engines are also scored at every cycle the cuts could have drawn (true RUL in
#      [5, min(150, life - 31)], ~3,500 rows): "all cuts" below, F1 at vigil's threshold there.
#
# usage: bench/cmapss.sh [-w WORK_DIR] [-g THRESHOLD_GOAL] [-c RUL_CAP] [-d FOLD [-s SEED]]
#                        [-a "AGGREGATES"] [-u "DURATIONS"] [-k SPLIT] [-m "MODEL KEYS"]
#   -a "mean slope" (default) and -u "5h 10h 20h 30h 50h 100h 150h 200h" (default): the feature
#   template (chosen on the development split, BENCHMARKS.md; before issue 19's tuning:
#   -a "mean std min max" -u "5h 10h 20h 30h");
#   -k machine_kfold (default: grouped k-fold by engine) or machine (25% held out): model.split;
#   -m 'rounds = 400; max_depth = 3': extra [model] keys, ';'-separated.
#   VIGIL=path/to/vigil uses that binary instead of building build-bench (Release).
#   Raw output: bench/results/cmapss-<UTC time>.txt (cmapss-dev<FOLD>-<UTC time>.txt with -d)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${TMPDIR:-/tmp}/vigil-bench-cmapss GOAL=f1 RUL_CAP=125h FOLD= SEED=1 SPLIT=machine_kfold
AGGS="mean slope" DURS="5h 10h 20h 30h 50h 100h 150h 200h" MODEL_KEYS=
while getopts "w:g:c:d:s:a:u:k:m:" o; do
  case $o in w) WORK=$OPTARG;; g) GOAL=$OPTARG;; c) RUL_CAP=$OPTARG;; d) FOLD=$OPTARG;; s) SEED=$OPTARG;;
    a) AGGS=$OPTARG;; u) DURS=$OPTARG;; k) SPLIT=$OPTARG;; m) MODEL_KEYS=$OPTARG;; *) sed -n '2,49p' "$0"; exit 2;; esac
done
DATA=${VIGIL_SHARED:-$ROOT/../shared}/data/cmapss-fd001
NEEDED="train_FD001.txt test_FD001.txt RUL_FD001.txt"
[ -n "$FOLD" ] && NEEDED=train_FD001.txt
for f in $NEEDED; do
  [ -f "$DATA/$f" ] || { echo "bench/cmapss.sh: $DATA/$f not found (../shared beside the clone)" >&2; exit 1; }
done
if [ -z "${VIGIL:-}" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DVIGIL_BUILD_TESTS=OFF >/dev/null
  cmake --build build-bench -j"$(nproc)" --target vigil >/dev/null
  VIGIL=$ROOT/build-bench/vigil
fi
PY=/usr/bin/python3  # Debian's, with python3-xgboost, -numpy, -pandas
rm -rf "$WORK"; mkdir -p "$WORK"
if [ -n "$FOLD" ]; then  # the development split: files shaped like the benchmark's, from train_FD001.txt
  mkdir -p "$WORK/dev"
  awk -v FOLD="$FOLD" -v SEED="$SEED" -v DIR="$WORK/dev" '
    { life[$1] = $2; line[$1, $2] = $0
      if ((($1 - 1) % 4) != FOLD) print > (DIR "/train_FD001.txt"); else print > (DIR "/heldout_FD001.txt") }
    END {
      srand(SEED); n = 0
      for (u = 1; u <= 100; u++) {
        if (!(u in life) || ((u - 1) % 4) != FOLD) continue
        hi = life[u] - 31; if (hi > 150) hi = 150
        for (k = 0; k < 4; k++) {
          r = 5 + int(rand() * (hi - 5 + 1)); n++          # true RUL of this cut
          for (c = 1; c <= life[u] - r; c++) { $0 = line[u, c]; $1 = n; print > (DIR "/test_FD001.txt") }
          print r > (DIR "/RUL_FD001.txt"); print n, u, life[u] - r, r > (DIR "/cuts.txt")
        }
      }
    }' "$DATA/train_FD001.txt"
  DATA=$WORK/dev
fi

# 24 channels, each a configured sensor; features from the 14 that vary in FD001 (the
# other 7 sensors and op3 are constant up to noise).
NAMES="op1 op2 op3 $(seq -f 's%02g' 1 21 | tr '\n' ' ')"
INFORMATIVE='"s02", "s03", "s04", "s07", "s08", "s09", "s11", "s12", "s13", "s14", "s15", "s17", "s20", "s21"'
{
  printf '[processing]\nwindow = "1h"\nlabel_horizon = "30h"\n\n'
  printf '[model]\nsplit = "%s"\ntest_fraction = 0.25\nthreshold_goal = "%s"\nrefit = true\n' "$SPLIT" "$GOAL"
  [ -n "$MODEL_KEYS" ] && echo "$MODEL_KEYS" | tr ';' '\n' | sed 's/^ *//'
  echo
  for n in $NAMES; do printf '[[sensors]]\nname = "%s"\nfield = "%s"\nmin = -1e9\nmax = 1e9\n\n' "$n" "$n"; done
  q() { echo "$1" | awk '{ for (i = 1; i <= NF; i++) printf "%s\"%s\"", (i > 1 ? ", " : ""), $i }'; }
  printf '[[feature_templates]]\nsensors = [%s]\naggregates = [%s]\ndurations = [%s]\n' "$INFORMATIVE" "$(q "$AGGS")" "$(q "$DURS")"
} > "$WORK/cmapss.toml"
V() { "$VIGIL" "$@" --config "$WORK/cmapss.toml" --log-level warn; }
"$VIGIL" check-config "$WORK/cmapss.toml" > "$WORK/check-config.txt"

awk -v NAMES="$NAMES" -v ID=ENG -v HEADER=1 -f bench/cmapss_long.awk "$DATA/train_FD001.txt" > "$WORK/train.csv"
awk -v NAMES="$NAMES" -v ID=TEST -v HEADER=1 -f bench/cmapss_long.awk "$DATA/test_FD001.txt" > "$WORK/test.csv"
# Each training engine fails at its last cycle (the contract's failure CSV).
awk 'BEGIN { print "machine_id,timestamp_utc,codigo_evento" } { last[$1] = $2 }
     END { for (u in last) { c = last[u]; printf "ENG-%03d,2025-01-%02dT%02d:00:00Z,RUN_TO_FAILURE\n", u, 1 + int(c / 24), c % 24 } }' \
  "$DATA/train_FD001.txt" > "$WORK/failures.csv"

t0=$(date +%s.%N)
V import --data-dir "$WORK/train" --format long "$WORK/train.csv" > /dev/null
V import --data-dir "$WORK/train" --format failures "$WORK/failures.csv" > /dev/null
V process --data-dir "$WORK/train" > "$WORK/process-train.txt" 2>&1
t1=$(date +%s.%N)
/usr/bin/time -f "%e %M" -o "$WORK/t-train" "$VIGIL" train --config "$WORK/cmapss.toml" --data-dir "$WORK/train" --rul-cap "$RUL_CAP" \
  > "$WORK/train.txt" 2>&1 || { cat "$WORK/train.txt"; exit 1; }
V import --data-dir "$WORK/test" --format long "$WORK/test.csv" > /dev/null
V process --data-dir "$WORK/test" > "$WORK/process-test.txt" 2>&1
MODEL=$(ls "$WORK"/train/models/model-*.json | grep -v -- '-rul\.json$' | sort -V | tail -1)  # its RUL model beside it
V export --data-dir "$WORK/train" --out "$WORK/train-rows.csv"
V export --data-dir "$WORK/test" --table latest_features --out "$WORK/test-last.csv"
V predict --model "$MODEL" --input "$WORK/test-last.csv" --out "$WORK/test-scored.csv" 2> "$WORK/predict.txt"
if [ -n "$FOLD" ]; then  # every row of the 25 held-out engines: the "all cuts" figures
  awk -v NAMES="$NAMES" -v ID=HELD -v HEADER=1 -f bench/cmapss_long.awk "$DATA/heldout_FD001.txt" > "$WORK/heldout.csv"
  V import --data-dir "$WORK/heldout" --format long "$WORK/heldout.csv" > /dev/null
  V process --data-dir "$WORK/heldout" > /dev/null 2>&1
  V export --data-dir "$WORK/heldout" --all --out "$WORK/heldout-rows.csv"
  V predict --model "$MODEL" --input "$WORK/heldout-rows.csv" --out "$WORK/heldout-scored.csv" 2> /dev/null
fi
read -r train_s train_kb < "$WORK/t-train"

cat > "$WORK/eval.py" <<'PY'
import json, os, sqlite3, sys, time
import numpy as np, pandas as pd, xgboost as xgb
work, data, model_file = sys.argv[1], sys.argv[2], sys.argv[3]
db = sqlite3.connect(f"file:{work}/train/vigil.db?mode=ro", uri=True)
params = json.loads(db.execute("SELECT params FROM models ORDER BY id DESC LIMIT 1").fetchone()[0])
cols, thr = params["columns"], params["threshold"]
rul = np.loadtxt(f"{data}/RUL_FD001.txt")               # test engine i+1's true RUL
scored = pd.read_csv(f"{work}/test-scored.csv").sort_values("machine_id").reset_index(drop=True)
assert len(scored) == 100 and list(scored.machine_id) == [f"TEST-{i:03d}" for i in range(1, 101)], scored.machine_id
truth = (rul <= 30).astype(int)

def auc(y, s):  # ROC AUC by ranks (ties averaged)
    r = pd.Series(s).rank().to_numpy(); p = y == 1
    return (r[p].sum() - p.sum() * (p.sum() + 1) / 2) / (p.sum() * (~p).sum())

def prf(y, s, t):
    f = s >= t; tp = int((f & (y == 1)).sum()); fp = int((f & (y == 0)).sum()); fn = int((~f & (y == 1)).sum())
    p = tp / (tp + fp) if tp + fp else 0.0; r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0), tp, fp, fn

vig = scored["failure_probability_7d"].to_numpy()
# The baseline: the same rows as vigil's final model (labelled rows of the training engines),
# the same columns and parameters, Python's xgboost.
rows = pd.read_csv(f"{work}/train-rows.csv")
x, y = rows[cols].to_numpy(np.float32), rows["label_failure_7d"].to_numpy()
w = params["scale_pos_weight"]
t0 = time.time()
bst = xgb.train({"objective": "binary:logistic", "tree_method": "hist", "max_depth": params["max_depth"],
                 "eta": params["eta"], "seed": params["seed"], "scale_pos_weight": w, "base_score": 0.5,
                 "nthread": 2}, xgb.DMatrix(x, label=y, missing=np.nan), num_boost_round=params["rounds"])
py_train_s = time.time() - t0
bst.set_param("base_score", f"{1 / (1 + w):.9g}")  # the class weight undone, as vigil does (model/booster.cc)
py = bst.predict(xgb.DMatrix(scored[cols].to_numpy(np.float32), missing=np.nan))
# vigil's own file in Python: the same numbers as vigil predict (the path is exact).
same = xgb.Booster(model_file=model_file).predict(xgb.DMatrix(scored[cols].to_numpy(np.float32), missing=np.nan))
print(f"training rows: vigil final model {params.get('final_rows')}, exported labelled rows {len(rows)} "
      f"({int(y.sum())} positive); test engines 100, failing within 30 cycles {int(truth.sum())}")
print(f"threshold chosen by vigil on held-out training engines: {thr:.4f} ({params.get('threshold_goal')})")
print(f"{'model':32s} {'ROC AUC':>8s} {'precision':>9s} {'recall':>7s} {'F1':>6s} {'TP':>4s} {'FP':>4s} {'FN':>4s}")
for name, s, t in (("vigil (its threshold)", vig, thr), ("python xgboost (vigil's threshold)", py, thr),
                   ("vigil at 0.5", vig, 0.5), ("python xgboost at 0.5", py, 0.5)):
    p, r, f1, tp, fp, fn = prf(truth, s, t)
    print(f"{name:32s} {auc(truth, s):8.4f} {p:9.3f} {r:7.3f} {f1:6.3f} {tp:4d} {fp:4d} {fn:4d}")
print(f"largest |vigil predict - python loading vigil's file|: {np.abs(vig - same).max():.2e}")
print(f"largest |vigil - python trained on the same rows|: {np.abs(vig - py).max():.4f}")
print(f"python xgboost {xgb.__version__} training: {py_train_s:.1f} s")
if "rul_hours" in scored.columns:
    cap = params["rul_cap_ms"] / 3_600_000
    # The same label for Python: hours to the engine's failure (its last cycle), capped.
    fail = dict(db.execute("SELECT machine_id, max(timestamp_ms) FROM failure_history GROUP BY 1").fetchall())
    t_ms = pd.to_datetime(rows["window_start"], utc=True).astype("int64") // 1_000_000
    ry = np.minimum((rows["machine_id"].map(fail) - t_ms) / 3_600_000, cap).to_numpy(np.float32)
    rb = xgb.train({"objective": "reg:squarederror", "tree_method": "hist", "max_depth": params["max_depth"],
                    "eta": params["eta"], "seed": params["seed"], "base_score": 0.5, "nthread": 2},
                   xgb.DMatrix(x, label=ry, missing=np.nan), num_boost_round=params["rounds"])
    py_rul = np.maximum(rb.predict(xgb.DMatrix(scored[cols].to_numpy(np.float32), missing=np.nan)), 0)
    vig_rul = scored["rul_hours"].to_numpy()
    def phm(pred, true):
        d = pred - true
        return float(np.where(d < 0, np.exp(-d / 13) - 1, np.exp(d / 10) - 1).sum())
    rmse = lambda a, b: float(np.sqrt(np.mean((a - b) ** 2)))
    print(f"remaining useful life on the 100 test engines' last rows (cap {cap:.0f}; vigil trained on "
          f"{params['rul_final_rows']} rows, python on {len(ry)}; held-out RMSE in vigil train {params['rul_rmse_h']:.2f}):")
    print(f"{'model':32s} {'RMSE':>7s} {'RMSE vs capped':>15s} {'PHM08':>9s}")
    for name, s in (("vigil", vig_rul), ("python xgboost", py_rul)):
        print(f"{name:32s} {rmse(s, rul):7.2f} {rmse(s, np.minimum(rul, cap)):15.2f} {phm(s, rul):9.1f}")
if os.path.exists(f"{work}/heldout-scored.csv"):  # development: every cut the 100 could have been drawn from
    h = pd.read_csv(f"{work}/heldout-scored.csv")
    raw = np.loadtxt(f"{data}/heldout_FD001.txt")
    life = pd.Series(raw[:, 1]).groupby(raw[:, 0].astype(int)).max()
    lf = life.reindex(h["machine_id"].str[5:].astype(int)).to_numpy()
    cycle = ((pd.to_datetime(h["window_start"], utc=True) - pd.Timestamp("2025-01-01", tz="UTC"))
             .dt.total_seconds().to_numpy() / 3600).round()
    true_rul = lf - cycle
    m = (true_rul >= 5) & (true_rul <= np.minimum(150, lf - 31))
    y, s, r = (true_rul[m] <= 30).astype(int), h["failure_probability_7d"].to_numpy()[m], true_rul[m]
    o = np.argsort(-s, kind="stable"); tp = np.cumsum(y[o]); k = np.arange(1, len(o) + 1)
    ends = np.r_[s[o][1:] != s[o][:-1], True]  # best F1 over thresholds between distinct scores (oracle)
    f1s = np.where(ends, 2 * tp / (k + y.sum()), 0); b = int(np.argmax(f1s))
    print(f"all cuts of the 25 held-out engines ({m.sum()} rows, {y.sum()} failing within 30 cycles):")
    print(f"{'model':32s} {'ROC AUC':>8s} {'precision':>9s} {'recall':>7s} {'F1':>6s} {'TP':>5s} {'FP':>5s} {'FN':>5s}")
    p, rc, f1, tp_, fp_, fn_ = prf(y, s, thr)
    print(f"{'vigil (its threshold)':32s} {auc(y, s):8.4f} {p:9.3f} {rc:7.3f} {f1:6.3f} {tp_:5d} {fp_:5d} {fn_:5d}")
    print(f"best F1 on these rows {f1s[b]:.3f} (at a threshold of ~{s[o][b]:.3f}: hindsight, for reference only)")
    if "rul_hours" in h.columns:
        print(f"remaining useful life on all cuts: RMSE {np.sqrt(np.mean((h['rul_hours'].to_numpy()[m] - r) ** 2)):.2f}")
PY
OUT=bench/results/cmapss${FOLD:+-dev$FOLD}-$(date -u +%Y%m%dT%H%M%SZ).txt
mkdir -p bench/results
{
  echo "# bench/cmapss.sh -g $GOAL -c $RUL_CAP -a \"$AGGS\" -u \"$DURS\" -k $SPLIT -m \"$MODEL_KEYS\"${FOLD:+ -d $FOLD -s $SEED}: C-MAPSS FD001, horizon 30h (1 cycle = 1 h); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
  [ -n "$FOLD" ] && echo "## DEVELOPMENT split: training engines (unit - 1) % 4 != $FOLD; the 'test engines' below are 4 cuts of each of the 25 held-out training engines (train_FD001.txt only)"
  echo "## features (vigil check-config)"; head -1 "$WORK/check-config.txt"
  echo "## import + process of the training engines: $(printf '%.1f' "$(echo "$t1 - $t0" | bc -l)") s"
  echo "## vigil train: ${train_s} s, peak RSS $((train_kb / 1024)) MB"; cat "$WORK/train.txt"
  echo "## vigil predict"; cat "$WORK/predict.txt"
  echo "## evaluation on the 100 ${FOLD:+development }test engines' last rows"
  "$PY" "$WORK/eval.py" "$WORK" "$DATA" "$MODEL"
} | tee "$OUT"
