#!/usr/bin/python3
"""The model stage end to end, with real parts: mosquitto, `vigil run`, a 30-day simulated
fleet with failures, `vigil train`, `vigil models`, `vigil process` scoring, `vigil export`,
and Python's xgboost (Debian's python3-xgboost) as the independent check.

usage: model_check.py VIGIL_BINARY SOURCE_DIR WORK_DIR

Checks:
- the trained model beats the ISO 10816 zone rule on PR AUC on the held-out period, and
  stays above a floor taken from measurement (see PR_AUC_FLOOR);
- Python's xgboost, loading the saved model file, gives the probabilities of vigil's
  `predictions` table on the rows of `vigil export` (to 1e-6);
- a model trained on shuffled labels is not promoted; a rollback restores the previous
  model; too few failures are refused with a clear message and exit code 2;
- grouped k-fold by machine holds every machine out once and records the folds; vigil
  export's label_rul_hours is the label recomputed from failure_history and watermarks.
Exit 0 when all holds, 1 with the reasons.
"""
import contextlib, csv, datetime, json, os, re, shutil, signal, socket, sqlite3, subprocess, sys, time

import numpy as np
import xgboost as xgb

vigil, src, work = sys.argv[1], sys.argv[2], sys.argv[3]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
os.chmod(work, 0o755)
data = f"{work}/data"
problems = []

# Measured on this fleet (10 machines, 30 days at 60 s, mean time to failure 21 days,
# seed 5; about 13 failures label the training rows): the model's PR AUC on the test
# period was 0.951 and 0.952 in two runs, the ISO rule's 0.847, the base rate's 0.660.
# The floor keeps 0.1 of room for timing (the backfill ends "now") and other CPUs, and is
# far above the base rate, so a model that learned nothing fails it.
PR_AUC_FLOOR = 0.85


def check(cond, what):
    if not cond:
        problems.append(what)
        print("FAIL:", what, flush=True)
    return cond


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args, ok=True):
    p = subprocess.run([vigil, *args, "--config", f"{work}/vigil.toml", "--data-dir", data],
                       capture_output=True, text=True, timeout=900)
    if ok and p.returncode != 0:
        print(p.stdout, p.stderr, file=sys.stderr)
        raise SystemExit(f"vigil {' '.join(args)} exited {p.returncode}")
    return p


port = free_port()
os.makedirs(f"{work}/persist")
os.chmod(f"{work}/persist", 0o777)
with open(f"{work}/mosquitto.conf", "w") as f:
    f.write(open(f"{src}/config/mosquitto.conf").read())
    f.write(f"\nlistener {port} 127.0.0.1\nallow_anonymous true\npersistence_location {work}/persist/\n")
with open(f"{work}/vigil.toml", "w") as f:
    f.write('[lake]\nsegment_max_age = "2s"\n[processing]\ninterval = "1h"\n'
            '[simulate]\nmean_time_to_failure = "21d"\n[model]\nmin_failures = 3\n')
broker = subprocess.Popen(["/usr/sbin/mosquitto", "-c", f"{work}/mosquitto.conf"],
                          stdout=open(f"{work}/mosquitto.log", "w"), stderr=subprocess.STDOUT)
daemon = None
try:
    time.sleep(0.5)
    daemon = subprocess.Popen([vigil, "run", "--config", f"{work}/vigil.toml", "--data-dir", data, "--port", str(port),
                               "--http-listen", "off", "--process-on-exit"],
                              stdout=open(f"{work}/vigil.log", "w"), stderr=subprocess.STDOUT)
    sim = subprocess.run([vigil, "simulate", "--config", f"{work}/vigil.toml", "--data-dir", f"{work}/sim", "--port",
                          str(port), "--days", "30", "--interval", "60", "--seed", "5", "--machines", "10"],
                         capture_output=True, text=True, timeout=900)
    check(sim.returncode == 0, f"simulate exited {sim.returncode}: {sim.stderr[-500:]}")
    time.sleep(3)  # the broker has acknowledged everything; let vigil drain its queue
    daemon.send_signal(signal.SIGTERM)
    check(daemon.wait(300) == 0, "vigil run did not stop cleanly")
    daemon = None
finally:
    if daemon:
        daemon.kill()
    broker.send_signal(signal.SIGTERM)
    broker.wait(10)

# Too few failures: refused with the count (on a copy of the store).
shutil.copytree(data, f"{work}/strict-data", ignore=shutil.ignore_patterns("lake", "models"))
with open(f"{work}/strict.toml", "w") as f:
    f.write("[model]\nmin_failures = 1000\n")
strict = subprocess.run([vigil, "train", "--data-dir", f"{work}/strict-data", "--config", f"{work}/strict.toml"],
                        capture_output=True, text=True)
check(strict.returncode == 2, f"too few failures: exit {strict.returncode}, want 2")
check("too few labelled failures" in strict.stderr and "min_failures = 1000" in strict.stderr,
      f"too few failures: unclear message: {strict.stderr.strip()}")

# The first model: trained, evaluated next to the baselines, promoted.
p = run("train", ok=False)
print(p.stdout, p.stderr)
check(p.returncode == 0, f"vigil train exited {p.returncode}: {p.stderr.strip()}")
pr = {name: float(v) for name, v in re.findall(r"^  (model|ISO 10816 zone rule|base rate)\s+ROC AUC [0-9.]+\s+PR AUC ([0-9.]+)",
                                               p.stdout, re.M)}
check(set(pr) == {"model", "ISO 10816 zone rule", "base rate"}, f"evaluation lines missing: {p.stdout}")
if pr.get("model") is not None:
    print(f"PR AUC: model {pr['model']:.3f}, ISO rule {pr.get('ISO 10816 zone rule')}, base rate {pr.get('base rate')}")
    check(pr["model"] > pr.get("ISO 10816 zone rule", 1), "the model does not beat the ISO rule on PR AUC")
    check(pr["model"] >= PR_AUC_FLOOR, f"model PR AUC {pr['model']} below the floor {PR_AUC_FLOOR}")
check("promoted: the first model" in p.stdout, "the first model was not promoted")

# Leakage, end to end: recomputed here from `features` (one labelled row per machine per
# stride of 1 min), the training rows are exactly those ending one horizon before the
# split, the test rows the label-complete rows after it (labelled 0, or 1 with the
# machine's watermark a horizon past them: issue 19), and the registry's counts say so.
# 30 days of 10 machines: model.split = "auto" takes the time split, and says so.
check(re.search(r"^split: by time \(model.split = \"auto\"\)", p.stdout, re.M) is not None,
      f"train does not say it split by time: {p.stdout}")
check(re.search(r"^threshold [0-9.]+ chosen on the held-out rows for the best F1", p.stdout, re.M) is not None,
      f"train does not print its chosen threshold: {p.stdout}")
check("final model: fit again on all" in p.stdout, f"train does not say it refit on all rows: {p.stdout}")
H = 7 * 86400_000
with contextlib.closing(sqlite3.connect(f"{data}/vigil.db")) as leak_db:  # closed: reprocess needs that
    split_ms, train_rows, test_rows, train_pos, params = leak_db.execute(
        "SELECT split_ms, train_rows, test_rows, train_positives, params FROM models WHERE id = 1").fetchone()
    watermark = dict(leak_db.execute("SELECT machine_id, watermark_ms FROM watermarks"))
    sampled = leak_db.execute(
        "SELECT f.machine_id, f.window_start_ms, f.label_failure_7d FROM features f JOIN (SELECT machine_id,"
        " min(window_start_ms) AS w FROM features WHERE label_failure_7d IS NOT NULL GROUP BY machine_id,"
        " window_start_ms / 60000) s ON f.machine_id = s.machine_id AND f.window_start_ms = s.w").fetchall()
check(json.loads(params).get("split") == "time", f"model 1 params say split {json.loads(params).get('split')}")
check(json.loads(params).get("threshold") is not None, "model 1 has no chosen threshold in its params")
train = [(t, y) for _, t, y in sampled if t + H < split_ms]
gap = [t for _, t, _ in sampled if t < split_ms <= t + H]
complete = lambda m, t, y: y == 0 or t + H <= watermark[m]
censored = sum(1 for m, t, y in sampled if t >= split_ms and not complete(m, t, y))
check(len(train) == train_rows and sum(y for _, y in train) == train_pos,
      f"training rows {train_rows} ({train_pos} positive) != {len(train)} rows ending a horizon before the split")
check(sum(1 for m, t, y in sampled if t >= split_ms and complete(m, t, y)) == test_rows,
      "test rows differ from the label-complete rows after the split")
check(len(gap) > 0, "no rows fall in the purge gap: the leakage check checks nothing")
check(censored > 0, "no censored rows after the split: the label-complete check checks nothing")
print(f"leakage: {len(train)} training rows end before split - 7 d; {len(gap)} rows in the purge gap left out; "
      f"{censored} censored positives not tested")

# Scoring: vigil process scores every row with the current model.
sc = run("process")
check("scored" in sc.stderr, f"vigil process did not score: {sc.stderr}")
db = sqlite3.connect(f"{data}/vigil.db")
model_id, model_file = db.execute("SELECT id, file FROM models WHERE status = 'promoted'").fetchone()
preds = {(m, t): p for m, t, p in db.execute(
    "SELECT machine_id, window_start_ms, failure_probability_7d FROM predictions WHERE model_id = ?", (model_id,))}
n_features = db.execute("SELECT count(*) FROM features").fetchone()[0]
check(len(preds) == n_features, f"{len(preds)} predictions for {n_features} feature rows")
latest = db.execute("SELECT count(*) FROM latest_predictions WHERE failure_probability_7d IS NOT NULL").fetchone()[0]
check(latest == 10, f"latest_predictions has {latest} machines with a probability")

# Independent check: Python's xgboost on the exported rows gives vigil's probabilities.
def ms(iso):
    return int(datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000 + 0.5)


def compare_with_python(model_id, what):
    """vigil's predictions of model_id vs Python's xgboost on the rows of vigil export."""
    run("export", "--out", f"{work}/rows.csv")
    params, model_file = db.execute("SELECT params, file FROM models WHERE id = ?", (model_id,)).fetchone()
    cols = json.loads(params)["columns"]
    with open(f"{work}/rows.csv") as fh:
        rows = list(csv.DictReader(fh))
    x = np.array([[float(r[c]) if r[c] != "" else np.nan for c in cols] for r in rows], dtype=np.float32)
    py = xgb.Booster(model_file=model_file).predict(xgb.DMatrix(x, missing=np.nan, feature_names=None))
    preds = {(m, t): p for m, t, p in db.execute(
        "SELECT machine_id, window_start_ms, failure_probability_7d FROM predictions WHERE model_id = ?", (model_id,))}
    worst, missing = 0.0, 0
    for r, p_py in zip(rows, py):
        key = (r["machine_id"], ms(r["window_start"]))
        if key not in preds:
            missing += 1
            continue
        worst = max(worst, abs(preds[key] - float(p_py)))
    check(len(rows) > 1000, f"{what}: only {len(rows)} exported rows")
    check(missing == 0, f"{what}: {missing} exported rows have no prediction")
    check(worst <= 1e-6, f"{what}: python xgboost differs from vigil's predictions by up to {worst}")
    print(f"{what}: python xgboost vs vigil: {len(rows)} rows, largest difference {worst:.2e}")
    return rows, py


rows, py = compare_with_python(model_id, "first scoring")

# vigil predict on the exported CSV agrees too.
run("predict", "--input", f"{work}/rows.csv", "--out", f"{work}/scored.csv")
with open(f"{work}/scored.csv") as fh:
    scored = [float(r["failure_probability_7d"]) for r in csv.DictReader(fh)]
check(len(scored) == len(rows) and max(abs(a - float(b)) for a, b in zip(scored, py)) <= 1e-6,
      "vigil predict differs from python xgboost")

# Without --input: each machine's newest row, with the probability latest_predictions has.
newest = run("predict")
lines = list(csv.DictReader(newest.stdout.splitlines()))
check(len(lines) == 10, f"vigil predict (newest rows) gave {len(lines)} rows")
lp = dict(db.execute("SELECT machine_id, failure_probability_7d FROM latest_predictions"))
check(all(abs(float(r["failure_probability_7d"]) - lp[r["machine_id"]]) <= 1e-6 for r in lines),
      "vigil predict (newest rows) differs from latest_predictions")

# A model file and an export score without a data directory (issue 19): the same
# probabilities, model_id empty, the chosen threshold applied in the summary.
nodata = subprocess.run([vigil, "predict", "--model", model_file, "--input", f"{work}/rows.csv", "--out",
                         f"{work}/scored-file.csv", "--data-dir", f"{work}/does-not-exist"],
                        capture_output=True, text=True, timeout=300)
check(nodata.returncode == 0, f"vigil predict --model FILE exited {nodata.returncode}: {nodata.stderr}")
check(not os.path.exists(f"{work}/does-not-exist"), "vigil predict --model FILE created the data directory")
check("at or above its threshold" in nodata.stderr, f"vigil predict --model FILE: no threshold summary: {nodata.stderr}")
if nodata.returncode == 0:
    with open(f"{work}/scored-file.csv") as fh:
        by_file = list(csv.DictReader(fh))
    check(len(by_file) == len(rows) and max(abs(float(r["failure_probability_7d"]) - float(b))
                                            for r, b in zip(by_file, py)) <= 1e-6,
          "vigil predict --model FILE differs from python xgboost")
    check(all(r["model_id"] == "" for r in by_file), "vigil predict --model FILE wrote a model_id")

# A useless model (shuffled labels) is not promoted; the current one stays.
bad = run("train", "--shuffle-labels")
check("not promoted" in bad.stdout, f"the shuffled-label model was promoted: {bad.stdout}")
check(db.execute("SELECT id FROM models WHERE status = 'promoted'").fetchone()[0] == model_id,
      "the current model changed after a worse one")
# A second good model is promoted; a rollback restores the first.
good2 = run("train")
check("promoted: not worse than model" in good2.stdout, f"second model: {good2.stdout}")
second = db.execute("SELECT id FROM models WHERE status = 'promoted'").fetchone()[0]
check(second != model_id, "the second model is not current")
rb = run("models", "rollback")
check(f"model {model_id} is current again" in rb.stdout, f"rollback: {rb.stdout}")
check(db.execute("SELECT id FROM models WHERE status = 'promoted'").fetchone()[0] == model_id,
      "rollback did not restore the first model")
listing = run("models")
check(listing.stdout.count("\n* ") + listing.stdout.startswith("* ") == 1, f"vigil models marks not one current:\n{listing.stdout}")

# Late data rewrites rows behind the scoring watermark (their windows and the rolling
# features after them): they are scored again, so Python still agrees on every row.
counts = lambda: (db.execute("SELECT count(*) FROM models").fetchone()[0],
                  db.execute("SELECT count(*) FROM alerts").fetchone()[0])
machine, first_ms = db.execute("SELECT machine_id, min(window_start_ms) FROM features GROUP BY machine_id"
                               " ORDER BY machine_id LIMIT 1").fetchone()
with open(f"{work}/late.csv", "w") as f:
    f.write("machine_id,timestamp_utc,sensor,value\n")
    for i in range(1, 40):
        t = datetime.datetime.fromtimestamp((first_ms + 86400_000 + i * 30_000) / 1000, datetime.timezone.utc)
        f.write(f"{machine},{t.strftime('%Y-%m-%dT%H:%M:%S.000Z')},vibration,{9.5 + i / 10}\n")
run("import", "--format", "long", f"{work}/late.csv")
late = run("process")
check("scored" in late.stderr, f"vigil process after late data did not score: {late.stderr}")
compare_with_python(model_id, "after late data")

# vigil reprocess --all rebuilds the features but keeps the model stage: models, alerts
# (so nothing is raised twice), and the current model scores the rebuilt rows.
before_counts = counts()
db.close()  # an open reader would keep reprocess from switching the file
run("reprocess", "--all")
db = sqlite3.connect(f"{data}/vigil.db")
check(counts() == before_counts, f"reprocess --all changed models/alerts counts: {before_counts} -> {counts()}")
run("process")
check(counts() == before_counts, f"scoring after reprocess raised alerts again: {before_counts} -> {counts()}")
compare_with_python(model_id, "after reprocess --all")

# Scheduled retraining in the daemon (model.retrain_interval), then scoring and publishing.
with open(f"{work}/retrain.toml", "w") as f:
    f.write('[processing]\ninterval = "1s"\n[model]\nretrain_interval = "1s"\nrul_cap = "125h"\n')
before = db.execute("SELECT count(*) FROM models").fetchone()[0]
daemon = subprocess.Popen([vigil, "run", "--config", f"{work}/retrain.toml", "--data-dir", data, "--port", str(free_port()),
                           "--http-listen", "off"], stdout=open(f"{work}/retrain.log", "w"), stderr=subprocess.STDOUT)
deadline = time.time() + 120
while time.time() < deadline and "scheduled retraining: model" not in open(f"{work}/retrain.log").read():
    time.sleep(0.5)
daemon.send_signal(signal.SIGTERM)
check(daemon.wait(60) == 0, "vigil run (retraining) did not stop cleanly")
log = open(f"{work}/retrain.log").read()
check("scheduled retraining: model" in log, f"no scheduled retraining in the daemon's log:\n{log[-2000:]}")
check(db.execute("SELECT count(*) FROM models").fetchone()[0] >= before + 1, "the scheduled retraining registered no model")
check("remaining useful life model (RMSE" in log, f"the scheduled retraining fitted no RUL model (model.rul_cap):\n{log[-2000:]}")

# Remaining useful life from the config (issue 19): model.rul_cap makes vigil train fit the
# RUL model without --rul-cap; once that model is current, vigil process stores rul_hours
# beside every probability, and the machines' JSON (vigil status --json, the same as
# /api/machines) carries it.
with open(f"{work}/rul.toml", "w") as f:
    f.write('[model]\nmin_failures = 3\nrul_cap = "125h"\n')
cc = subprocess.run([vigil, "check-config", f"{work}/rul.toml"], capture_output=True, text=True, timeout=60)
check(cc.returncode == 0 and "model.rul_cap 125h" in cc.stdout, f"check-config does not show model.rul_cap: {cc.stdout}")
rul_run = lambda *args: subprocess.run([vigil, *args, "--config", f"{work}/rul.toml", "--data-dir", data],
                                       capture_output=True, text=True, timeout=900)
rt = rul_run("train")
check(rt.returncode == 0, f"vigil train with model.rul_cap exited {rt.returncode}: {rt.stderr}")
check("remaining useful life (cap 125h)" in rt.stdout and "rul file: " in rt.stdout,
      f"vigil train with model.rul_cap fitted no RUL model: {rt.stdout}")
rul_model = re.search(r"^model (\d+):", rt.stdout, re.M)
if check(rul_model is not None, f"vigil train printed no model id: {rt.stdout}"):
    rid = int(rul_model.group(1))
    check(os.path.exists(f"{data}/models/model-{rid}-rul.json"), f"no models/model-{rid}-rul.json")
    if db.execute("SELECT id FROM models WHERE status = 'promoted'").fetchone()[0] != rid:
        rul_run("models", "promote", str(rid))  # not better than the current one: promoted by hand
    check(db.execute("SELECT id FROM models WHERE status = 'promoted'").fetchone()[0] == rid,
          f"model {rid} is not current")
    rp = rul_run("process")
    check(rp.returncode == 0 and "scored" in rp.stderr, f"vigil process did not score with the RUL model: {rp.stderr}")
    n, with_rul, low = db.execute("SELECT count(*), count(rul_hours), min(rul_hours) FROM predictions WHERE model_id = ?",
                                  (rid,)).fetchone()
    rows_now = db.execute("SELECT count(*) FROM features").fetchone()[0]  # the late data added some
    check(n == rows_now and with_rul == n, f"model {rid}: {with_rul} of {n} predictions have rul_hours ({rows_now} rows)")
    check(low is not None and low >= 0, f"negative rul_hours: {low}")
    latest_rul = db.execute("SELECT count(rul_hours) FROM latest_predictions").fetchone()[0]
    check(latest_rul == 10, f"latest_predictions has {latest_rul} machines with rul_hours")
    st = rul_run("status", "--json")
    check(len(re.findall(r'"rul_hours":[0-9]', st.stdout)) == 10 and '"horizon_hours":168' in st.stdout,
          f"vigil status --json lacks rul_hours or horizon_hours: {st.stdout[:2000]}")

# Grouped k-fold by machine (issue 19), on the same store: every machine held out once, the
# evaluation and threshold of the pooled out-of-fold predictions, the folds in the registry.
# --no-promote: the models above stay as they are.
with open(f"{work}/kfold.toml", "w") as f:
    f.write('[model]\nmin_failures = 3\nsplit = "machine_kfold"\nfolds = 5\nrul_cap = "125h"\n')
cc = subprocess.run([vigil, "check-config", f"{work}/kfold.toml"], capture_output=True, text=True, timeout=60)
check(cc.returncode == 0 and "grouped 5-fold by machine" in cc.stdout, f"check-config does not show the k-fold: {cc.stdout}")
kf = subprocess.run([vigil, "train", "--no-promote", "--config", f"{work}/kfold.toml", "--data-dir", data],
                    capture_output=True, text=True, timeout=900)
print(kf.stdout, kf.stderr)
check(kf.returncode == 0, f"vigil train (k-fold) exited {kf.returncode}: {kf.stderr}")
for what in ("split: by machine, 5-fold (model.split = \"machine_kfold\", model.folds = 5): every one of the 10 machines",
             "evaluation on the pooled out-of-fold predictions of the 5 folds", "chosen on the pooled out-of-fold predictions",
             "ROC AUC over the folds:", "final model: fit on all", "pooled out-of-fold rows RMSE"):
    check(what in kf.stdout, f"vigil train (k-fold) does not print {what!r}")
kid = re.search(r"^model (\d+):", kf.stdout, re.M)
if check(kid is not None, "vigil train (k-fold) printed no model id"):
    params, metrics, test_rows, test_pos = db.execute(
        "SELECT params, metrics, test_rows, test_positives FROM models WHERE id = ?", (int(kid.group(1)),)).fetchone()
    params, metrics = json.loads(params), json.loads(metrics)
    machines = sorted(m for (m,) in db.execute("SELECT DISTINCT machine_id FROM features"))
    check(params.get("split") == "machine_kfold" and params.get("folds") == 5, f"k-fold params: {params.get('split')}, {params.get('folds')}")
    check(params.get("test_machines") == machines, f"k-fold test_machines {params.get('test_machines')}")
    folds = metrics.get("folds") or []
    held = sorted(m for f in folds for m in f["machines"])
    check(len(folds) == 5 and held == machines, f"k-fold: each machine in one fold once: {[f['machines'] for f in folds]}")
    check(all(len(f["machines"]) == 2 for f in folds), "k-fold: 10 machines in 5 folds of 2")
    check(sum(f["rows"] for f in folds) == test_rows and sum(f["positives"] for f in folds) == test_pos,
          "k-fold: the folds' held-out rows do not add up to the pooled ones")
    # No fold holds out both compressors (or two of any type): machines of a type spread over
    # the folds, so that each fold's model has seen the kinds of machine it is tested on.
    check(all(len({m.split("-")[0] for m in f["machines"]}) == 2 for f in folds),
          f"k-fold: a fold holds two machines of a type: {[f['machines'] for f in folds]}")
    # Measured on this fleet: pooled out-of-fold PR AUC 0.885, and 0.875-0.885 over three
    # seeds (ISO rule 0.718, base rate 0.43-0.44), lower than the time split's: each fold tests
    # machines the model never saw, and pooling compares the fold models' probabilities with
    # each other. Before the types were spread, a fold could hold out both compressors: 0.797
    # here, and 0.705 in a CI run (that fold's ROC AUC 0.571), below the ISO rule. The floor
    # keeps about 0.1 of room.
    pr_k, pr_iso, pr_base = (metrics[m]["pr_auc"] for m in ("model", "iso_rule", "base_rate"))
    check(pr_k > pr_iso and pr_k > pr_base and pr_k >= 0.77,
          f"k-fold pooled PR AUC {pr_k} (ISO rule {pr_iso}, base rate {pr_base}, floor 0.77)")
    check(params.get("threshold") is not None and params.get("refit") is True, "k-fold: no threshold, or not refit")

# vigil export --rul-cap: the RUL label vigil train learns, recomputed here from failure_history and
# watermarks (hours to the next failure after the window start, capped; the cap once the watermark
# is a cap past; else empty).
run("export", "--rul-cap", "125h", "--out", f"{work}/rul-rows.csv")
with open(f"{work}/rul-rows.csv") as fh:
    rul_rows = list(csv.DictReader(fh))
check(len(rul_rows) > 1000 and "label_rul_hours" in rul_rows[0], "vigil export --rul-cap has no label_rul_hours")
failures = {}
for m, t in db.execute("SELECT DISTINCT machine_id, timestamp_ms FROM failure_history ORDER BY 1, 2"):
    failures.setdefault(m, []).append(t)
wm = dict(db.execute("SELECT machine_id, watermark_ms FROM watermarks"))
cap, bad, known = 125 * 3600_000, 0, 0
for r in rul_rows:
    t = ms(r["window_start"])
    nxt = [f for f in failures.get(r["machine_id"], []) if f > t]
    want = (nxt[0] - t) / 3600_000 if nxt and nxt[0] - t <= cap else (cap / 3600_000 if wm.get(r["machine_id"], t) - t >= cap else None)
    got = float(r["label_rul_hours"]) if r["label_rul_hours"] != "" else None
    known += got is not None
    bad += (want is None) != (got is None) or (want is not None and abs(want - got) > 1e-9)
check(bad == 0 and known > 0, f"label_rul_hours: {bad} of {len(rul_rows)} rows differ from the recomputed label ({known} known)")

if problems:
    print(f"{len(problems)} problem(s); logs in {work}", file=sys.stderr)
    sys.exit(1)
print("model ok")
