#!/usr/bin/python3
"""Fleet features: the contract's §3 features and labels for every machine of every
gateway, computed on Dask from the lake the gateways uploaded to the bucket (issue 17).

usage: fleet_features.py --config vigil.toml --out fleet.db [--workers 2] [--scheduler ADDR]
       [--merge-duplicates]

Reads bucket, endpoint, region, prefix and credentials from the [upload] section of the
gateways' TOML config (the secret from VIGIL_S3_SECRET_ACCESS_KEY or
upload.secret_key_file, as vigil does), and [processing] window / label_horizon,
[[sensors]] and [[features]] (the contract's defaults when absent): the same file the
gateways use gives the same definitions. Lists <prefix>/raw/gateway=G/date=D/machine_id=M/
with boto3 and computes each machine's rows in its own Dask task (a machine's rolling
features and labels need all of its history, machines are independent), on a local
cluster of --workers processes or on the cluster at --scheduler. Writes the SQLite table
`features` (gateway_id, machine_id, window_start_ms, sensor columns, features,
label_failure_7d) to --out, the same columns as each gateway's own table, and
`failure_history` (gateway_id, machine_id, timestamp_ms, event_code; deduplicated as §3
says), which fleet/fleet_train.py counts like `vigil train` does.

Machine ids must be unique across gateways. The same machine_id under two gateways is an
error (exit 2, listing them) unless --merge-duplicates: then their readings are merged as
one machine (right for a machine that moved between gateways; wrong for two machines
that share an id, whose rows would mix).

Needs Debian's python3-dask, python3-distributed, python3-boto3, python3-pandas.
"""
import argparse, json, os, re, sqlite3, sys, tomllib
from collections import defaultdict

import boto3
import numpy as np
import pandas as pd
from botocore.config import Config as BotoConfig

KEY_RE = re.compile(r"(?:^|/)raw/gateway=([^/]+)/date=(\d{4}-\d\d-\d\d)/machine_id=([^/]+)/([^/]+\.jsonl)$")
UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
DEFAULT_SENSORS = [("vibration", "vibration_rms"), ("temperature", "temperature_celsius")]
DEFAULT_FEATURES = [("vib_mean_5h", "vibration", "mean", 5 * 3_600_000),
                    ("vib_std_5h", "vibration", "std", 5 * 3_600_000),
                    ("vib_max_5h", "vibration", "max", 5 * 3_600_000),
                    ("temp_mean_24h", "temperature", "mean", 24 * 3_600_000),
                    ("temp_max_24h", "temperature", "max", 24 * 3_600_000)]


def slope(ts, vals, dur):
    """The slope aggregate: least-squares trend per hour of the values in (t - dur, t] over
    their window starts (hours after the range's first value), NaN below two values."""
    ok = ~np.isnan(vals)
    t_ok, v_ok = ts[ok], vals[ok]
    out = np.full(len(ts), np.nan)
    for i, t in enumerate(ts):
        lo, hi = np.searchsorted(t_ok, t - dur, side="right"), np.searchsorted(t_ok, t, side="right")
        if hi - lo >= 2:
            x = (t_ok[lo:hi] - t_ok[lo]) / 3_600_000.0
            xc = x - x.mean()
            out[i] = (xc * (v_ok[lo:hi] - v_ok[lo:hi].mean())).sum() / (xc * xc).sum()
    return out


def duration_ms(text):
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d)", str(text).strip())
    if not m:
        raise SystemExit(f"fleet: bad duration {text!r} (like 1500ms, 30s, 5m, 24h, 7d)")
    return int(m.group(1)) * UNITS[m.group(2)]


def features_of(t):
    """[[features]], then each [[feature_templates]] entry expanded sensor x aggregate x
    duration, named "<sensor>_<aggregate>_<duration as written>" (common/config.cc
    TemplateFeatureName; vigil check-config has rejected clashes); the defaults when neither."""
    if "features" not in t and "feature_templates" not in t:
        return DEFAULT_FEATURES
    out = [(f["name"], f["sensor"], f.get("aggregate", "mean"), duration_ms(f["duration"]))
           for f in t.get("features", [])]
    for ft in t.get("feature_templates", []):
        for s in ft["sensors"]:
            for a in ft["aggregates"]:
                for d in ft["durations"]:
                    out.append((re.sub(r"[^A-Za-z0-9_]", "_", s) + f"_{a}_{d}", s, a, duration_ms(d)))
    return out


def load_config(path):
    with open(path, "rb") as f:
        t = tomllib.load(f)
    up, proc = t.get("upload", {}), t.get("processing", {})
    secret = os.environ.get("VIGIL_S3_SECRET_ACCESS_KEY")
    if not secret and up.get("secret_key_file"):
        secret = open(up["secret_key_file"]).readline().rstrip("\r\n")
    c = {
        "bucket": up.get("bucket", ""), "endpoint": up.get("endpoint", "https://s3.amazonaws.com"),
        "region": up.get("region", "us-east-1"), "prefix": up.get("prefix", ""),
        "access_key_id": os.environ.get("VIGIL_S3_ACCESS_KEY_ID") or up.get("access_key_id", ""),
        "secret": secret or "", "ca_file": up.get("ca_file", ""),
        "window_ms": duration_ms(proc.get("window", "1s")),
        "horizon_ms": duration_ms(proc.get("label_horizon", "7d")),
        "sensors": [(s["name"], s["field"]) for s in t["sensors"]] if "sensors" in t else DEFAULT_SENSORS,
        "features": features_of(t),
    }
    if not c["bucket"]:
        raise SystemExit("fleet: upload.bucket is not set in " + path)
    return c


def s3_client(c):
    return boto3.client("s3", endpoint_url=c["endpoint"], region_name=c["region"],
                        aws_access_key_id=c["access_key_id"], aws_secret_access_key=c["secret"],
                        verify=c["ca_file"] or None, config=BotoConfig(s3={"addressing_style": "path"}))


def list_lake(c):
    """{machine_id: [(gateway, key), ...]} of every uploaded raw segment."""
    s3, out = s3_client(c), defaultdict(list)
    prefix = (c["prefix"] + "/" if c["prefix"] else "") + "raw/"
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=c["bucket"], Prefix=prefix):
        for o in page.get("Contents", []):
            m = KEY_RE.search(o["Key"])
            if m:
                out[m.group(3)].append((m.group(1), o["Key"]))
    return out


def machine_rows(c, machine, objects):
    """The §3 rows of one machine from its segments (runs on a Dask worker)."""
    s3 = s3_client(c)
    field = dict(c["sensors"])
    recs, fails = [], []
    for order, (gateway, key) in enumerate(sorted(objects)):
        body = s3.get_object(Bucket=c["bucket"], Key=key)["Body"].read()
        for i, line in enumerate(body.splitlines()):
            e = json.loads(line)
            p = e["payload"]
            kind = e["topic"].rsplit("/", 1)[1]
            ts = pd.Timestamp(p["timestamp_utc"]).value // 1_000_000
            if kind == "failure":
                fails.append((ts, p.get("codigo_evento", p.get("event_code"))))
                recs.append((kind, ts, 0, order, i, np.nan))
            elif kind in field:
                recs.append((kind, ts, pd.Timestamp(e["received_at"]).value // 1_000_000, order, i,
                             float(p[field[kind]])))
    df = pd.DataFrame(recs, columns=["kind", "ts", "received", "seg", "line", "value"])
    watermark = df.ts.max()
    # First received wins; copies received in the same ms go to the smaller value (as the
    # gateways decide it: the winner never depends on file names or areas).
    rd = df[df.kind != "failure"].sort_values(["received", "value"], kind="stable")
    rd = rd.drop_duplicates(["kind", "ts"])
    W = c["window_ms"]
    rd = rd.assign(ws=rd.ts // W * W)
    win = rd.pivot_table(index="ws", columns="kind", values="value", aggfunc="mean")
    for name, _ in c["sensors"]:
        if name not in win.columns:
            win[name] = np.nan
    win = win[[n for n, _ in c["sensors"]]]
    win.columns = [field[n] for n in win.columns]
    g = win.reset_index().sort_values("ws")
    idx = pd.to_datetime(g.ws, unit="ms")
    for name, sensor, agg, dur in c["features"]:
        s = pd.Series(g[field[sensor]].values, index=idx)
        if agg == "std":
            g[name] = s.rolling(f"{dur}ms", min_periods=2).std().values
        elif agg in ("mean", "max", "min", "count"):
            r = s.rolling(f"{dur}ms", min_periods=1)
            g[name] = getattr(r, agg)().values
            if agg == "count":
                g[name] = s.notna().astype(float).rolling(f"{dur}ms", min_periods=1).sum().values
        elif agg == "slope":
            g[name] = slope(g.ws.values, g[field[sensor]].values, dur)
        elif agg == "last":
            g[name] = s.ffill().where(s.notna().astype(float).rolling(f"{dur}ms", min_periods=1).sum().values > 0).values
        else:
            raise ValueError(f"feature {name}: unknown aggregate {agg}")
    f = np.sort(np.array(sorted(set(fails)), dtype=object)[:, 0].astype(np.int64)) if fails else np.array([], np.int64)
    H = c["horizon_ms"]

    def label(t):
        k = np.searchsorted(f, t, side="right")
        if k < len(f) and f[k] <= t + H:
            return 1.0
        return 0.0 if watermark >= t + H else np.nan

    g["label_failure_7d"] = [label(t) for t in g.ws]
    gateways = ",".join(sorted({gw for gw, _ in objects}))
    g.insert(0, "machine_id", machine)
    g.insert(0, "gateway_id", gateways)
    events = pd.DataFrame(sorted(set(fails)), columns=["timestamp_ms", "event_code"])
    events.insert(0, "machine_id", machine)
    events.insert(0, "gateway_id", gateways)
    return g.rename(columns={"ws": "window_start_ms"}), events


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True, help="the gateways' vigil.toml ([upload], [processing], sensors, features)")
    ap.add_argument("--out", required=True, help="SQLite file that receives the `features` table (replaced)")
    ap.add_argument("--workers", type=int, default=2, help="local Dask worker processes (default 2)")
    ap.add_argument("--scheduler", default="", help="address of a running Dask scheduler (instead of a local cluster)")
    ap.add_argument("--merge-duplicates", action="store_true",
                    help="merge a machine_id found under several gateways instead of failing")
    a = ap.parse_args()
    c = load_config(a.config)
    lake = list_lake(c)
    dup = {m: sorted({gw for gw, _ in objs}) for m, objs in lake.items() if len({gw for gw, _ in objs}) > 1}
    if dup and not a.merge_duplicates:
        print("fleet: machine ids under more than one gateway (ids must be unique in the fleet; "
              "--merge-duplicates treats each as one machine):", file=sys.stderr)
        for m, gws in sorted(dup.items()):
            print(f"  {m}: {', '.join(gws)}", file=sys.stderr)
        return 2
    from dask_cluster import dask_client
    with dask_client(a.scheduler, a.workers) as client:
        futures = [client.submit(machine_rows, c, m, objs, pure=False) for m, objs in sorted(lake.items())]
        parts = client.gather(futures)
    out = pd.concat([p[0] for p in parts], ignore_index=True) if parts else pd.DataFrame()
    events = (pd.concat([p[1] for p in parts], ignore_index=True) if parts else
              pd.DataFrame(columns=["gateway_id", "machine_id", "timestamp_ms", "event_code"]))
    if os.path.exists(a.out):
        os.remove(a.out)
    with sqlite3.connect(a.out) as db:
        out.to_sql("features", db, index=False)
        events.to_sql("failure_history", db, index=False)
    print(f"fleet: {len(out)} rows, {len(lake)} machine(s), "
          f"{len({gw for objs in lake.values() for gw, _ in objs})} gateway(s) -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
