#!/usr/bin/python3
"""Independent check of the contract's features and labels (§3) with pandas.

usage: check_features.py VIGIL_BINARY WORK_DIR

Makes a random history (3 machines, gaps, bursts, duplicates, failures) as CSV, loads it
with `vigil import`, runs `vigil process` in two steps (late data in the second), then
recomputes every features row and label from the lake files with pandas alone and
compares them with the SQLite tables. Exit 0 when they agree, 1 with the differences.
"""
import glob, json, os, random, shutil, sqlite3, subprocess, sys
import numpy as np
import pandas as pd

vigil, work = sys.argv[1], sys.argv[2]
data = os.path.join(work, "data")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
H = 7 * 86400_000
FEATURES = [  # the contract's defaults and two slopes: (name, sensor field, aggregate, duration ms)
    ("vib_mean_5h", "vibration_rms", "mean", 5 * 3600_000),
    ("vib_std_5h", "vibration_rms", "std", 5 * 3600_000),
    ("vib_max_5h", "vibration_rms", "max", 5 * 3600_000),
    ("temp_mean_24h", "temperature_celsius", "mean", 24 * 3600_000),
    ("temp_max_24h", "temperature_celsius", "max", 24 * 3600_000),
    ("vib_slope_5h", "vibration_rms", "slope", 5 * 3600_000),
    ("temp_slope_30m", "temperature_celsius", "slope", 30 * 60_000),
]
SENSOR = {"vibration_rms": "vibration", "temperature_celsius": "temperature"}
config = os.path.join(work, "vigil.toml")
with open(config, "w") as fh:
    for name, col, agg, dur in FEATURES:
        fh.write(f'[[features]]\nname = "{name}"\nsensor = "{SENSOR[col]}"\naggregate = "{agg}"\nduration = "{dur // 60_000}m"\n\n')
rng = random.Random(5)
t0 = 1760486400_000  # 2025-10-15T00:00:00Z

def iso(ms):
    return pd.Timestamp(ms, unit="ms", tz="UTC").strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

def history(n, start):
    rows, fails = [], []
    for m in ("PUMP-1", "FAN-2", "COMP-3"):
        t = start
        for _ in range(n):
            t += rng.choice([200, 700, 1000, 1500, 60_000]) if rng.random() > 0.01 else rng.randint(1, 30) * 3600_000
            sensor = "vibration" if rng.random() < 0.6 else "temperature"
            v = round(rng.uniform(0, 10), 2) if sensor == "vibration" else round(rng.uniform(40, 90), 1)
            rows.append((m, iso(t), sensor, v))
            if rng.random() < 0.05:
                rows.append((m, iso(t), sensor, v + 1))  # duplicate key, received later
            if rng.random() < 0.002:
                fails.append((m, iso(t + 500), "FALHA_X"))
    return rows, fails

def load(rows, fails, tag):
    long_csv, fail_csv = os.path.join(work, f"long-{tag}.csv"), os.path.join(work, f"fail-{tag}.csv")
    pd.DataFrame(rows, columns=["machine_id", "timestamp_utc", "sensor", "value"]).to_csv(long_csv, index=False)
    pd.DataFrame(fails, columns=["machine_id", "timestamp_utc", "codigo_evento"]).to_csv(fail_csv, index=False)
    for f, fmt in ((long_csv, "long"), (fail_csv, "failures")):
        subprocess.run([vigil, "import", "--config", config, "--data-dir", data, "--format", fmt, f], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([vigil, "process", "--config", config, "--data-dir", data], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)

rows1, fails1 = history(3000, t0)
load(rows1, fails1, "1")
rows2, fails2 = history(800, t0 + 2 * 86400_000)  # late and overlapping data
load(rows2, fails2, "2")

# --- pandas only from here: read the lake as a data scientist would. ---
recs = []
for path in sorted(glob.glob(os.path.join(data, "lake", "*", "date=*", "machine_id=*", "*.jsonl"))):
    seg = os.path.relpath(path, os.path.join(data, "lake")).split("/", 1)[1]
    with open(path) as fh:
        for i, line in enumerate(fh, 1):
            e = json.loads(line)
            p = e["payload"]
            kind = e["topic"].rsplit("/", 1)[1]
            recs.append(dict(machine_id=p["machine_id"], kind=kind,
                             ts=pd.Timestamp(p["timestamp_utc"]).value // 1_000_000,
                             received=pd.Timestamp(e["received_at"]).value // 1_000_000, seg=seg, line=i,
                             value=p.get("vibration_rms", p.get("temperature_celsius")),
                             code=p.get("codigo_evento", p.get("event_code"))))
df = pd.DataFrame(recs)
wm = df.groupby("machine_id")["ts"].max()
fail = df[df.kind == "failure"].drop_duplicates(["machine_id", "ts", "code"])
rd = df[df.kind != "failure"].sort_values(["received", "value"]).drop_duplicates(["machine_id", "kind", "ts"])
rd = rd.assign(ws=rd.ts // 1000 * 1000)
field = {"vibration": "vibration_rms", "temperature": "temperature_celsius"}
win = rd.pivot_table(index=["machine_id", "ws"], columns="kind", values="value", aggfunc="mean")
win.columns = [field[c] for c in win.columns]
win = win.reset_index()

def slope(ts, vals, dur):
    """Least-squares trend per hour of the values in (t - dur, t], two-pass, hours after the
    window's first value; NaN below two values."""
    ok = ~np.isnan(vals)
    t_ok, v_ok = ts[ok], vals[ok]
    out = np.full(len(ts), np.nan)
    for i, t in enumerate(ts):
        lo, hi = np.searchsorted(t_ok, t - dur, side="right"), np.searchsorted(t_ok, t, side="right")
        if hi - lo >= 2:
            x = (t_ok[lo:hi] - t_ok[lo]) / 3_600_000.0
            y = v_ok[lo:hi]
            xc = x - x.mean()
            out[i] = (xc * (y - y.mean())).sum() / (xc * xc).sum()
    return out

out = []
for m, g in win.groupby("machine_id"):
    g = g.sort_values("ws").copy()
    idx = pd.to_datetime(g.ws, unit="ms")
    for name, col, agg, dur in FEATURES:
        if agg == "slope":
            g[name] = slope(g.ws.values, g[col].values, dur)
            continue
        s = pd.Series(g[col].values, index=idx)
        r = s.rolling(f"{dur}ms", min_periods=1)  # right-closed (t - D, t]
        g[name] = getattr(r, agg)().values
        if agg == "std":
            g[name] = s.rolling(f"{dur}ms", min_periods=2).std().values
    f = np.sort(fail[fail.machine_id == m].ts.values)
    def label(t):
        k = np.searchsorted(f, t, side="right")
        if k < len(f) and f[k] <= t + H:
            return 1
        return 0 if wm[m] >= t + H else None
    g["label_failure_7d"] = [label(t) for t in g.ws]
    out.append(g)
want = pd.concat(out).rename(columns={"ws": "window_start_ms"}).sort_values(["machine_id", "window_start_ms"])

got = pd.read_sql("SELECT * FROM features ORDER BY machine_id, window_start_ms", sqlite3.connect(os.path.join(data, "vigil.db")))
problems = []
if len(got) != len(want):
    problems.append(f"row count: sqlite {len(got)}, pandas {len(want)}")
else:
    want = want.reset_index(drop=True)
    for col in ["window_start_ms"]:
        if not (got[col].values == want[col].values).all():
            problems.append(f"{col} differs")
    for col in ["vibration_rms", "temperature_celsius"] + [f[0] for f in FEATURES]:
        a, b = got[col].astype(float).values, want[col].astype(float).values
        bad = ~((np.isnan(a) & np.isnan(b)) | np.isclose(a, b, rtol=1e-9, atol=1e-9))
        if bad.any():
            i = int(np.argmax(bad))
            problems.append(f"{col}: {int(bad.sum())} rows differ, first at {got.machine_id[i]} {got.window_start_ms[i]}: sqlite {a[i]} pandas {b[i]}")
    a = got["label_failure_7d"].astype(float).values
    b = want["label_failure_7d"].astype(float).values
    bad = ~((np.isnan(a) & np.isnan(b)) | (a == b))
    if bad.any():
        problems.append(f"label_failure_7d: {int(bad.sum())} rows differ")
lf = pd.read_sql("SELECT * FROM latest_features ORDER BY machine_id", sqlite3.connect(os.path.join(data, "vigil.db")))
if list(lf.window_start_ms) != list(want.groupby("machine_id").window_start_ms.max().sort_index()):
    problems.append("latest_features is not the newest row of each machine")
n_fail = sqlite3.connect(os.path.join(data, "vigil.db")).execute("SELECT count(*) FROM failure_history").fetchone()[0]
if n_fail != len(fail):
    problems.append(f"failure_history: sqlite {n_fail}, pandas {len(fail)}")
# Export round trip: the CSV loads in pandas as it is and equals the SQLite rows.
csv_path = os.path.join(work, "train.csv")
subprocess.run([vigil, "export", "--config", config, "--data-dir", data, "--all", "--out", csv_path], check=True,
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
ex = pd.read_csv(csv_path, parse_dates=["window_start"], float_precision="round_trip")
if len(ex) != len(got):
    problems.append(f"export: {len(ex)} rows, sqlite {len(got)}")
else:
    if not (ex.window_start.astype("int64") // 1_000_000 == got.window_start_ms).all():
        problems.append("export: window_start differs from window_start_ms")
    for col in got.columns[2:]:
        a, b = ex[col].astype(float).values, got[col].astype(float).values
        if not ((np.isnan(a) & np.isnan(b)) | (a == b)).all():
            problems.append(f"export: column {col} differs from sqlite")
labelled = subprocess.run([vigil, "export", "--config", config, "--data-dir", data, "--out", "-"], check=True,
                          capture_output=True, text=True).stdout.count("\n") - 1
if labelled != int(got.label_failure_7d.notna().sum()):
    problems.append(f"export without --all: {labelled} rows, want the labelled ones")
print(f"checked {len(want)} rows, {len(fail)} failures, labels 1/0/NULL = "
      f"{int((want.label_failure_7d == 1).sum())}/{int((want.label_failure_7d == 0).sum())}/{int(want.label_failure_7d.isna().sum())}")
for p in problems:
    print("MISMATCH", p)
sys.exit(1 if problems else 0)
