#!/usr/bin/python3
"""Fleet model: one XGBoost model on the fleet's labelled rows, trained with xgboost.dask
on a Dask cluster, evaluated like `vigil train`, published to the bucket (issue 17).

usage: fleet_train.py --config vigil.toml --features fleet.db [--workers 1] [--scheduler ADDR]
       [--id ID] [--shuffle-labels] [--dry-run]
       [--announce HOST[:PORT] [--announce-topic T] [--announce-cafile F] [--announce-user U]]

--features is the SQLite file fleet/fleet_features.py wrote (tables `features` and
`failure_history`). Everything that decides the model comes from the gateways' TOML
config, read the way vigil reads it, and mirrors src/model/trainer.cc exactly:
  - rows: labelled `features` rows, the first of each machine in every model.stride
    bucket (store/training_data.cc), in (window_start_ms, machine_id) order;
  - columns: every [[sensors]] field, then every [[features]] name (model/dataset.cc);
  - split: the newest model.test_fraction of the time range is the test period; training
    rows end one label horizon before it (the purge gap, model/dataset.cc TimeSplit);
  - refusals: fewer than model.min_failures failures inside the training period, no
    positive training row, or a test period without both classes (exit 2);
  - parameters: binary:logistic, hist, model.max_depth, eta = model.learning_rate,
    model.seed, scale_pos_weight = negatives / positives (printed with 6 decimals as vigil
    does), nthread 2, base_score 0.5, model.rounds rounds; then base_score is set to
    1 / (1 + scale_pos_weight) so the file gives calibrated probabilities (Booster::
    UndoPositiveWeight);
  - evaluation on the test rows: ROC AUC, PR AUC, Brier, precision and recall at
    model.warning_threshold (model/metrics.cc), for the model, the ISO 10816 zone rule and
    the base rate.
The model file is XGBoost JSON (what vigil's registry loads, model/booster.h). It goes to
<prefix>/models/<id>/model.json with <prefix>/models/<id>/manifest.json beside it:
  {"format": "vigil-fleet-model/1", "id", "created_utc", "model_key", "model_sha256",
   "model_bytes", "columns", "fingerprint" (store/schema.cc Fingerprint of the config),
   "xgboost_version", "params", "data_from_ms", "data_to_ms", "split_ms", "train_rows",
   "test_rows", "train_positives", "test_positives", "training_failures", "machines",
   "gateways", "evaluation": {"model", "iso_rule", "base_rate"}}
The id is "fleet-<UTC time>" (sortable: `vigil models pull` takes the newest); the
manifest is written after the model, so a manifest always names a whole model. Gateways
check hash, columns and fingerprint and apply their own promotion rule (vigil models pull).

--announce publishes, once the manifest is in the bucket, a retained QoS 1 message on the
fleet topic (default vigil/fleet/model, the gateways' fleet.model_topic) of that broker:
  {"id": "<id>", "sha256": "<model_sha256>", "manifest_key": "<prefix>/models/<id>/manifest.json"}
with Debian's mosquitto_pub (mosquitto-clients). On a central broker it reaches every
gateway through config/mosquitto-bridge.conf; each `vigil run` then pulls, checks and
decides by its own rule, as `vigil models pull --id` does. The password, if any, comes
from VIGIL_ANNOUNCE_PASSWORD (never the command line of this script).

--shuffle-labels trains on shuffled training labels (numpy, model.seed): a deliberately
useless model, for audits of the gateways' rule (vigil train has the same flag).
Needs Debian's python3-xgboost, python3-dask, python3-distributed, python3-boto3.
"""
import argparse, datetime, hashlib, json, math, os, sqlite3, subprocess, sys, tempfile, tomllib

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fleet_features import duration_ms, load_config, s3_client  # noqa: E402

ISO_ZONE_LOWER = [0, 4.5, 7.1, 11.2]  # common/iso_zone.h


def model_config(path):
    """[model] as vigil's defaults and config file give it (include/vigil/config.h)."""
    with open(path, "rb") as f:
        m = tomllib.load(f).get("model", {})
    return {"stride_ms": duration_ms(m.get("stride", "60s")), "test_fraction": float(m.get("test_fraction", 0.25)),
            "min_failures": int(m.get("min_failures", 3)), "rounds": int(m.get("rounds", 200)),
            "max_depth": int(m.get("max_depth", 4)), "learning_rate": float(m.get("learning_rate", 0.1)),
            "seed": int(m.get("seed", 1)), "warning_threshold": float(m.get("warning_threshold", 0.5))}


def fingerprint(c):
    """store/schema.cc Fingerprint(), layout version included (bump both together): features
    must never mix two configurations."""
    f = f"v4 window={c['window_ms']} horizon={c['horizon_ms']}"
    for name, field in c["sensors"]:
        f += f" sensor={name}:{field}"
    for name, sensor, agg, dur in c["features"]:
        f += f" feature={name}:{sensor}:{agg}:{dur}"
    return f


def load_labelled(db_path, columns, vib_field, stride_ms, horizon_ms):
    """store/training_data.cc ReadLabelled over the fleet's `features` table: label-complete
    rows (model/dataset.h: a positive counts once the machine's data reaches one horizon past
    it; here a machine's newest window stands for its watermark), the first of each machine
    in every stride bucket, in (window_start_ms, machine_id) order.
    (In pandas: the same query in SQLite on the un-indexed table pandas writes is quadratic.)"""
    want = ["machine_id", "window_start_ms", "label_failure_7d"] + columns + ([vib_field] if vib_field else [])
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        df = pd.read_sql("SELECT " + ", ".join(dict.fromkeys(want)) + " FROM features WHERE label_failure_7d IS NOT NULL",
                         db)
        newest = pd.read_sql("SELECT machine_id, max(window_start_ms) AS wm FROM features GROUP BY machine_id", db)
    wm = df.machine_id.map(dict(zip(newest.machine_id, newest.wm)))
    df = df[(df.label_failure_7d == 0) | (df.window_start_ms + horizon_ms <= wm)]
    df = df.assign(bucket=df.window_start_ms // max(stride_ms, 1))
    first = df.groupby(["machine_id", "bucket"], sort=False).window_start_ms.transform("min")
    df = df[df.window_start_ms == first].sort_values(["window_start_ms", "machine_id"], kind="stable")
    machine = df.machine_id.tolist()
    t = df.window_start_ms.to_numpy(dtype=np.int64)
    y = df.label_failure_7d.to_numpy().astype(np.int64)
    x = df[columns].to_numpy(dtype=np.float32, na_value=np.nan).reshape(len(df), len(columns))
    vib = [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
           for v in (df[vib_field].tolist() if vib_field else [None] * len(df))]
    return machine, t, x, y, vib


def time_split(t, test_fraction, horizon_ms):
    """model/dataset.cc TimeSplit (llround: half away from zero; the product is >= 0)."""
    lo, hi = int(t.min()), int(t.max())
    split_ms = hi - int(math.floor((hi - lo) * test_fraction + 0.5))
    test = np.nonzero(t >= split_ms)[0]
    train = np.nonzero((t < split_ms) & (t + horizon_ms < split_ms))[0]
    return split_ms, train, test


def roc_auc(score, label):
    idx = sorted(range(len(score)), key=lambda i: score[i])
    pos = neg = rank_sum = 0.0
    i = 0
    while i < len(idx):
        j = i
        while j < len(idx) and score[idx[j]] == score[idx[i]]:
            j += 1
        avg = (i + 1 + j) / 2.0
        for k in range(i, j):
            if label[idx[k]]:
                rank_sum += avg
                pos += 1
            else:
                neg += 1
        i = j
    if pos == 0 or neg == 0:
        return 0.5
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


def pr_auc(score, label):
    positives = float(sum(1 for v in label if v == 1))
    if positives == 0:
        return 0.0
    idx = sorted(range(len(score)), key=lambda i: -score[i])  # stable, like std::stable_sort
    tp = fp = ap = last_recall = 0.0
    i = 0
    while i < len(idx):
        j = i
        while j < len(idx) and score[idx[j]] == score[idx[i]]:
            if label[idx[j]]:
                tp += 1
            else:
                fp += 1
            j += 1
        recall, precision = tp / positives, tp / (tp + fp)
        ap += (recall - last_recall) * precision
        last_recall = recall
        i = j
    return ap


def evaluate(score, label, threshold):
    """model/metrics.cc Evaluate."""
    tp = fp = fn = 0
    for s, l in zip(score, label):
        if s >= threshold and l:
            tp += 1
        elif s >= threshold:
            fp += 1
        elif l:
            fn += 1
    brier = sum((s - l) ** 2 for s, l in zip(score, label)) / len(score) if score else 0.0
    return {"roc_auc": roc_auc(score, label), "pr_auc": pr_auc(score, label), "brier": brier,
            "precision": tp / (tp + fp) if tp + fp else 0.0, "recall": tp / (tp + fn) if tp + fn else 0.0}


def iso_zone_score(v):
    if v is None:
        return 0.0
    z = 0
    while z < 3 and v > ISO_ZONE_LOWER[z + 1]:
        z += 1
    return z / 3.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True, help="the gateways' vigil.toml ([upload], [processing], [model], sensors, features)")
    ap.add_argument("--features", required=True, help="SQLite file written by fleet/fleet_features.py")
    ap.add_argument("--workers", type=int, default=1,
                    help="local Dask worker processes (default 1: with 2, Debian's xgboost 1.7.4 hung now and then "
                         "in the workers' collective; see README)")
    ap.add_argument("--scheduler", default="", help="address of a running Dask scheduler (instead of a local cluster)")
    ap.add_argument("--id", default="", help="model id (default fleet-<UTC time>; ids sort by time)")
    ap.add_argument("--shuffle-labels", action="store_true", help="train on shuffled labels (a deliberately useless model)")
    ap.add_argument("--dry-run", action="store_true", help="train and evaluate, write nothing to the bucket")
    ap.add_argument("--announce", default="", metavar="HOST[:PORT]",
                    help="publish the model's id and sha256, retained, on the fleet topic of this MQTT broker")
    ap.add_argument("--announce-topic", default="vigil/fleet/model", help="the gateways' fleet.model_topic")
    ap.add_argument("--announce-cafile", default="", help="CA file: TLS to the broker (port default 8883)")
    ap.add_argument("--announce-user", default="", help="MQTT user name (password: VIGIL_ANNOUNCE_PASSWORD)")
    a = ap.parse_args()
    c, mc = load_config(a.config), model_config(a.config)
    columns = [field for _, field in c["sensors"]] + [name for name, _, _, _ in c["features"]]
    vib_field = dict(c["sensors"]).get("vibration", "")
    machine, t, x, y, vib = load_labelled(a.features, columns, vib_field, mc["stride_ms"], c["horizon_ms"])
    if len(t) == 0:
        print(f"fleet_train: no labelled rows in {a.features}", file=sys.stderr)
        return 2
    split_ms, train, test = time_split(t, mc["test_fraction"], c["horizon_ms"])
    train_pos, test_pos = int(y[train].sum()), int(y[test].sum())
    with sqlite3.connect(f"file:{a.features}?mode=ro", uri=True) as db:
        failures = db.execute("SELECT count(*) FROM failure_history WHERE timestamp_ms > ? AND timestamp_ms < ?",
                              (int(t.min()), split_ms)).fetchone()[0]
    if failures < mc["min_failures"] or train_pos == 0 or len(train) == 0:
        print(f"fleet_train: too few labelled failures to train: {failures} failure(s) label the {len(train)} training "
              f"rows ({train_pos} positive), model.min_failures = {mc['min_failures']}", file=sys.stderr)
        return 2
    if test_pos == 0 or test_pos == len(test):
        print(f"fleet_train: the test period has {test_pos} positive of {len(test)} rows: both classes are needed "
              "to evaluate a model", file=sys.stderr)
        return 2

    import dask.array as da
    import xgboost as xgb
    from dask_cluster import dask_client
    y_train = y[train].astype(np.float32)
    if a.shuffle_labels:
        np.random.default_rng(mc["seed"]).shuffle(y_train)
    neg, pos = float(len(train) - train_pos), float(train_pos)
    spw = f"{neg / pos:.6f}"
    params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": str(mc["max_depth"]),
              "eta": f"{mc['learning_rate']:.6f}", "seed": str(mc["seed"]), "scale_pos_weight": spw, "nthread": "2",
              "eval_metric": "aucpr", "base_score": "0.5"}
    with dask_client(a.scheduler, a.workers) as client:
        n_parts = max(1, len(client.scheduler_info()["workers"]))
        chunk = max(1, -(-len(train) // n_parts))
        dx = da.from_array(x[train], chunks=(chunk, len(columns)))
        dy = da.from_array(y_train, chunks=(chunk,))
        dtrain = xgb.dask.DaskDMatrix(client, dx, dy, missing=np.nan)
        booster = xgb.dask.train(client, params, dtrain, num_boost_round=mc["rounds"])["booster"]
    booster.set_param("base_score", "%.9g" % (1.0 / (1.0 + neg / pos)))  # Booster::UndoPositiveWeight

    label = [int(v) for v in y[test]]
    prob = [float(p) for p in booster.inplace_predict(x[test], missing=np.nan)]
    ev = {"model": evaluate(prob, label, mc["warning_threshold"]),
          "iso_rule": evaluate([iso_zone_score(vib[i]) for i in test], label, mc["warning_threshold"]),
          "base_rate": evaluate([pos / (pos + neg)] * len(test), label, mc["warning_threshold"])}
    for name, e in ev.items():
        print(f"  {name:10s} ROC AUC {e['roc_auc']:.3f}   PR AUC {e['pr_auc']:.3f}   Brier {e['brier']:.4f}   "
              f"precision {e['precision']:.3f}   recall {e['recall']:.3f}")

    with tempfile.TemporaryDirectory() as tmp:
        booster.save_model(f"{tmp}/model.json")
        body = open(f"{tmp}/model.json", "rb").read()
    now = datetime.datetime.now(datetime.timezone.utc)
    mid = a.id or "fleet-" + now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"
    base = (c["prefix"] + "/" if c["prefix"] else "") + f"models/{mid}/"
    with sqlite3.connect(f"file:{a.features}?mode=ro", uri=True) as db:
        gateways = sorted({g for (gs,) in db.execute("SELECT DISTINCT gateway_id FROM features") for g in gs.split(",")})
    manifest = {
        "format": "vigil-fleet-model/1", "id": mid, "created_utc": now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "model_key": base + "model.json", "model_sha256": hashlib.sha256(body).hexdigest(), "model_bytes": len(body),
        "columns": columns, "fingerprint": fingerprint(c), "xgboost_version": xgb.__version__,
        "params": {"objective": "binary:logistic", "rounds": mc["rounds"], "max_depth": mc["max_depth"],
                   "eta": float(params["eta"]), "seed": mc["seed"], "scale_pos_weight": float(spw),
                   "prior_corrected": True, "stride_ms": mc["stride_ms"], "shuffled_labels": a.shuffle_labels,
                   "trained_on": "xgboost.dask", "dask_workers": n_parts},
        "data_from_ms": int(t.min()), "data_to_ms": int(t.max()), "split_ms": split_ms,
        "train_rows": int(len(train)), "test_rows": int(len(test)), "train_positives": train_pos,
        "test_positives": test_pos, "training_failures": int(failures), "machines": len(set(machine)),
        "gateways": gateways, "evaluation": ev,
    }
    print(f"fleet model {mid}: {len(train)} training rows ({train_pos} positive, {failures} failures), {len(test)} test "
          f"rows ({test_pos} positive), {len(set(machine))} machine(s) of {len(gateways)} gateway(s)")
    if a.dry_run:
        print(json.dumps(manifest, indent=1))
        return 0
    s3 = s3_client(c)
    s3.put_object(Bucket=c["bucket"], Key=base + "model.json", Body=body, ContentType="application/json")
    s3.put_object(Bucket=c["bucket"], Key=base + "manifest.json", Body=json.dumps(manifest, indent=1).encode(),
                  ContentType="application/json")
    print(f"s3://{c['bucket']}/{base}manifest.json")
    if a.announce:
        return announce(a, {"id": mid, "sha256": manifest["model_sha256"], "manifest_key": base + "manifest.json"})
    return 0


def announce(a, message):
    """The retained announcement (mosquitto_pub -r -q 1): gateways that subscribe later, or
    are offline now, still get it. Exit 3 if it fails: the model is in the bucket anyway
    (`vigil models pull --id` on the gateways, or publish again)."""
    host, _, port = a.announce.partition(":")
    argv = ["mosquitto_pub", "-h", host, "-p", port or ("8883" if a.announce_cafile else "1883"), "-q", "1", "-r",
            "-t", a.announce_topic, "-m", json.dumps(message), "-i", f"vigil-fleet-train-{os.getpid()}"]
    if a.announce_cafile:
        argv += ["--cafile", a.announce_cafile]
    if a.announce_user:
        argv += ["-u", a.announce_user]
        if os.environ.get("VIGIL_ANNOUNCE_PASSWORD"):
            argv += ["-P", os.environ["VIGIL_ANNOUNCE_PASSWORD"]]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"fleet_train: cannot announce on {a.announce}: {e} (is mosquitto-clients installed?)", file=sys.stderr)
        return 3
    if r.returncode != 0:
        print(f"fleet_train: mosquitto_pub to {a.announce} failed ({r.returncode}): {r.stderr.strip()}; the model is "
              f"in the bucket: publish again or run `vigil models pull --id {message['id']}` on the gateways",
              file=sys.stderr)
        return 3
    print(f"announced on {a.announce} topic {a.announce_topic} (retained): {json.dumps(message)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
