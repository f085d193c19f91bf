#!/usr/bin/python3
"""CSV between vigil and the tools people use on it (Debian's python3 and python3-pandas).

usage: csv_roundtrip.py VIGIL_BINARY WORK_DIR

- `vigil import` reads files written by Python's csv module (CRLF line ends, a UTF-8 BOM,
  event codes with commas and quotes);
- `vigil export` output reads back the same with pandas and with the csv module (row
  counts, columns, the event codes exactly);
- `vigil predict --input` on a CRLF file written by the csv module (BOM, every field
  quoted): pandas reads the output with the same rows, the input's values unchanged, and
  failure_probability_7d and model_id present.
Exit 0 when all holds, 1 with the reasons.
"""
import csv, math, os, random, re, shutil, subprocess, sys

import pandas as pd

vigil, work = sys.argv[1], sys.argv[2]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
data = os.path.join(work, "data")
conf = os.path.join(work, "vigil.toml")
with open(conf, "w") as f:
    f.write('[model]\nstride = "1h"\nrounds = 20\nmin_failures = 3\n')
problems = []


def check(cond, what):
    if not cond:
        problems.append(what)
        print("FAIL:", what, flush=True)
    return cond


def run(*args):
    p = subprocess.run([vigil, *args, "--config", conf, "--data-dir", data], capture_output=True, text=True,
                       timeout=600)
    if p.returncode != 0:
        print(p.stdout, p.stderr, file=sys.stderr)
        raise SystemExit(f"vigil {' '.join(args)} exited {p.returncode}")
    return p


def iso(ms):
    return pd.Timestamp(ms, unit="ms", tz="UTC").strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# 60 days of readings every 15 minutes for 4 machines, a failure every 10 to 16 days each;
# vibration climbs before a failure so that a model can be trained.
rng = random.Random(7)
t0 = 1754438400_000  # 2025-08-06T00:00:00Z
step = 15 * 60_000
codes = ['FALHA,"A"', "FALHA_B", "falha c; ação"]  # a comma and quotes; non-ASCII
wide, failures = [], []
for m in ("PUMP-1", "FAN-2", "COMP-3", "MILL-4"):
    next_fail = t0 + rng.randint(10, 16) * 86400_000
    for i in range(60 * 96):
        t = t0 + i * step
        if t >= next_fail:
            failures.append((m, iso(t), rng.choice(codes)))
            next_fail = t + rng.randint(10, 16) * 86400_000
        wear = max(0.0, 1 - (next_fail - t) / (2 * 86400_000))
        wide.append((m, iso(t), round(rng.uniform(1, 3) + 6 * wear, 3), round(rng.uniform(50, 70) + 10 * wear, 2)))
wide_csv, fail_csv = os.path.join(work, "wide.csv"), os.path.join(work, "failures.csv")
with open(wide_csv, "w", newline="", encoding="utf-8-sig") as f:  # csv's default: CRLF
    w = csv.writer(f)
    w.writerow(["machine_id", "timestamp_utc", "vibration_rms", "temperature_celsius"])
    w.writerows(wide)
with open(fail_csv, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["machine_id", "timestamp_utc", "codigo_evento"])
    w.writerows(failures)
run("import", "--format", "wide", wide_csv)
run("import", "--format", "failures", fail_csv)
run("process")

# export: failure_history with its awkward codes, and the features, read by both readers.
hist = os.path.join(work, "failures-export.csv")
run("export", "--table", "failure_history", "--out", hist)
df = pd.read_csv(hist, keep_default_na=False)
with open(hist, newline="", encoding="utf-8") as f:
    rows = list(csv.reader(f))
check(list(df.columns) == ["machine_id", "timestamp_utc", "event_code"], f"failure_history columns {list(df.columns)}")
check(rows[0] == list(df.columns), f"csv module header {rows[0]}")
check(len(df) == len(failures) == len(rows) - 1,
      f"failure_history: {len(failures)} imported, pandas reads {len(df)}, csv reads {len(rows) - 1}")
check(sorted(df["event_code"]) == sorted(c for _, _, c in failures), "event codes changed on the way out")
check(sorted(r[2] for r in rows[1:]) == sorted(c for _, _, c in failures), "event codes changed (csv module)")

features = os.path.join(work, "features.csv")
run("export", "--all", "--out", features)
fx = pd.read_csv(features, float_precision="round_trip")  # exact doubles, as written
with open(features, newline="") as f:
    frows = list(csv.reader(f))
check(len(fx) > 1000 and len(fx) == len(frows) - 1, f"features: pandas {len(fx)} rows, csv {len(frows) - 1}")
check(list(fx.columns) == frows[0] and "label_failure_7d" in fx.columns, f"features columns {list(fx.columns)}")
check(fx["machine_id"].nunique() == 4, "four machines in the export")

out = run("train").stdout
model = re.search(r"model (\d+):", out)
check(model is not None, f"train printed no model id: {out}")

# predict on a file as Python's csv module writes it: CRLF, a BOM, every field quoted.
sample = fx.sample(n=101, random_state=3).reset_index(drop=True)
crlf = os.path.join(work, "rows-crlf.csv")
with open(crlf, "w", newline="", encoding="utf-8-sig") as f:
    w = csv.writer(f, quoting=csv.QUOTE_ALL)
    w.writerow(list(sample.columns))
    for r in sample.itertuples(index=False):
        w.writerow(["" if isinstance(v, float) and math.isnan(v) else v for v in r])
with open(crlf, "rb") as f:
    raw = f.read()
check(raw.count(b"\r\n") == 102 and raw.startswith(b"\xef\xbb\xbf"), "the input has 102 CRLF lines and a BOM")
scored = os.path.join(work, "scored.csv")
run("predict", "--input", crlf, "--out", scored, "--model", model.group(1) if model else "1")
with open(scored, "rb") as f:
    check(b"\r" not in f.read(), "predict output has a stray CR")
px = pd.read_csv(scored, float_precision="round_trip")
check(len(px) == len(sample), f"predict: {len(sample)} rows in, pandas reads {len(px)}")
check(list(px.columns) == list(sample.columns) + ["failure_probability_7d", "model_id"],
      f"predict columns {list(px.columns)}")
if len(px) == len(sample) and "failure_probability_7d" in px.columns:
    check(px["failure_probability_7d"].between(0, 1).all(), "probabilities in [0, 1]")
    check((px["model_id"] == int(model.group(1) if model else 1)).all(), "model_id column")
    check(px[list(sample.columns)].equals(sample), "the input's values changed on the way through predict")
with open(scored, newline="") as f:
    srows = list(csv.reader(f))
check(len(srows) == 102 and all(len(r) == len(sample.columns) + 2 for r in srows),
      f"csv module reads {len(srows)} records from predict's output")
with open(crlf, newline="", encoding="utf-8-sig") as f:
    inrows = list(csv.reader(f))
check([r[:-2] for r in srows] == inrows, "predict changed the text of an input cell")

# predict from the store (no --input) writes the same format.
latest = run("predict").stdout
lp = list(csv.reader(latest.splitlines()))
check(len(lp) == 5 and lp[0][-2:] == ["failure_probability_7d", "model_id"], f"predict of latest rows: {lp[:2]}")

if problems:
    print(f"{len(problems)} problem(s)")
    sys.exit(1)
print("CSV round trips: import, export, predict OK")
