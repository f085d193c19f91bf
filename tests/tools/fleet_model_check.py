#!/usr/bin/python3
"""The fleet model round trip (issue 17): gateways -> bucket -> Dask -> model -> gateways.

usage: fleet_model_check.py VIGIL_BINARY SOURCE_DIR WORK_DIR

Two gateways (each its own mosquitto, `vigil run` fed by `vigil simulate` with its own
machines, then `vigil upload`) fill one s3rver bucket; fleet/fleet_features.py and
fleet/fleet_train.py (xgboost.dask on a local cluster of 2 workers) publish a fleet model
under <prefix>/models/. Every `vigil models pull` goes through s3_sigv4_proxy.py, which
checks each GET and listing signature with botocore. Checks:
  1. gw-a pulls the newest model: sha256/columns/fingerprint pass, it is registered and
     promoted by gw-a's rule (gw-a has no model of its own);
  2. `vigil predict --model ID` on gw-a's exported rows equals Python's xgboost on the
     same rows with the model file taken from the bucket (to 1e-6);
  3. a deliberately worse fleet model (shuffled labels) is pulled by gw-a and by gw-b
     (which has its own `vigil train` model): registered as 'rejected', not promoted, the
     reason printed, the current model unchanged;
  4. a manifest whose sha256 does not match its file, a gateway config with another
     window (fingerprint), and one with another feature list (columns) are each refused
     with exit 2 and their own message, registering nothing; pulling a registered id
     again registers nothing.
"""
import csv, json, os, shutil, signal, sqlite3, subprocess, sys, time

import boto3
import numpy as np
import xgboost as xgb
from botocore.config import Config as BotoConfig

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklib import check, free_port, port_open, wait, finish  # noqa: E402

vigil, src, work = sys.argv[1], sys.argv[2], sys.argv[3]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
os.chmod(work, 0o755)
procs = []
BUCKET, PREFIX, REGION = "fleet-lake", "company", "us-east-1"
GATEWAYS = {"gw-a": "PUMP-A1,FAN-A2,COMP-A3", "gw-b": "PUMP-B1,FAN-B2,COMP-B3"}
s3_port, proxy_port = free_port(), free_port()
env = dict(os.environ, VIGIL_S3_ACCESS_KEY_ID="S3RVER", VIGIL_S3_SECRET_ACCESS_KEY="S3RVER")


def start(argv, log):
    p = subprocess.Popen(argv, stdout=open(f"{work}/{log}", "a"), stderr=subprocess.STDOUT)
    procs.append(p)
    return p


def config(gw, endpoint_port, extra=""):
    path = f"{work}/{gw}{'-' + str(endpoint_port) if endpoint_port == proxy_port else ''}{extra and '-x'}.toml"
    with open(path, "w") as f:
        f.write('[lake]\nsegment_max_age = "1s"\n[processing]\ninterval = "1h"\nlabel_horizon = "12h"\n'
                f'{extra}'
                '[simulate]\nmean_time_to_failure = "2d"\nrepair_time = "2h"\n[model]\nrounds = 40\nmin_failures = 3\nstride = "10m"\n'
                f'[upload]\nbucket = "{BUCKET}"\nendpoint = "http://127.0.0.1:{endpoint_port}"\nregion = "{REGION}"\n'
                f'prefix = "{PREFIX}"\ngateway_id = "{gw}"\ninterval = "300ms"\n')
    return path


def vigil_cmd(*args, gw="gw-a", cfg=None):
    return subprocess.run([vigil, *args, "--config", cfg or config(gw, proxy_port), "--data-dir", f"{work}/{gw}"],
                          env=env, capture_output=True, text=True, timeout=600)


def models(gw):
    with sqlite3.connect(f"{work}/{gw}/vigil.db") as db:
        return db.execute("SELECT id, status, params FROM models ORDER BY id").fetchall()


def current(gw):
    return [m[0] for m in models(gw) if m[1] == "promoted"]


def fleet_train(*extra):
    r = subprocess.run(["/usr/bin/python3", f"{src}/fleet/fleet_train.py", "--config", config("gw-a", s3_port),
                        "--features", f"{work}/fleet.db", "--workers", "1", *extra], env=env, capture_output=True,
                       text=True, timeout=600)
    check(r.returncode == 0, f"fleet_train.py {' '.join(extra)} exits 0 ({(r.stdout + r.stderr).strip()[-600:]})")
    return r


try:
    start([f"{src}/tests/tools/node/node_modules/.bin/s3rver", "-d", f"{work}/s3", "-a", "127.0.0.1", "-p", str(s3_port),
           "--configure-bucket", BUCKET, "--silent", "--allow-mismatched-signatures"], "s3rver.log")
    wait(lambda: port_open(s3_port), 30, "s3rver listens")
    start(["/usr/bin/python3", f"{src}/tests/tools/s3_sigv4_proxy.py", str(proxy_port), str(s3_port), "S3RVER", "S3RVER",
           REGION, f"{work}/proxy.jsonl"], "proxy.log")
    wait(lambda: port_open(proxy_port), 20, "the signature-checking proxy listens")

    for i, (gw, machines) in enumerate(GATEWAYS.items()):
        d, broker = f"{work}/{gw}", free_port()
        os.makedirs(f"{d}-persist", mode=0o777)
        os.chmod(f"{d}-persist", 0o777)
        with open(f"{work}/{gw}-mosquitto.conf", "w") as f:
            f.write(open(f"{src}/config/mosquitto.conf").read())
            f.write(f"\nlistener {broker} 127.0.0.1\nallow_anonymous true\npersistence_location {d}-persist/\n")
        start(["/usr/sbin/mosquitto", "-c", f"{work}/{gw}-mosquitto.conf"], f"{gw}-mosquitto.log")
        wait(lambda: port_open(broker), 20, f"{gw}: mosquitto listens")
        run = start([vigil, "run", "--config", config(gw, s3_port), "--data-dir", d, "--port", str(broker),
                     "--http-listen", "off", "--process-on-exit"], f"{gw}-vigil.log")
        time.sleep(1)
        r = subprocess.run([vigil, "simulate", "--config", config(gw, s3_port), "--data-dir", f"{d}-sim", "--port",
                            str(broker), "--days", "6", "--interval", "60", "--seed", str(21 + i), "--machine-ids",
                            machines], stdout=open(f"{work}/{gw}-simulate.log", "w"), stderr=subprocess.STDOUT,
                           timeout=900)
        check(r.returncode == 0, f"{gw}: vigil simulate exited {r.returncode}")
        time.sleep(3)  # the broker acknowledged everything; let vigil drain its queue
        run.send_signal(signal.SIGTERM)
        check(run.wait(timeout=300) == 0, f"{gw}: vigil run stopped cleanly")
        r = subprocess.run([vigil, "upload", "--config", config(gw, s3_port), "--data-dir", d], env=env,
                           capture_output=True, text=True, timeout=600)
        check(r.returncode == 0, f"{gw}: vigil upload ({r.stderr.strip()[-200:]})")

    r = subprocess.run(["/usr/bin/python3", f"{src}/fleet/fleet_features.py", "--config", config("gw-a", s3_port),
                        "--out", f"{work}/fleet.db", "--workers", "2"], env=env, capture_output=True, text=True,
                       timeout=900)
    check(r.returncode == 0, f"fleet_features.py exits 0 ({(r.stdout + r.stderr).strip()[-400:]})")
    fleet_train("--id", "fleet-1-good")
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{s3_port}", region_name=REGION, aws_access_key_id="S3RVER",
                      aws_secret_access_key="S3RVER", config=BotoConfig(s3={"addressing_style": "path"}))
    good = json.loads(s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/models/fleet-1-good/manifest.json")["Body"].read())
    good_body = s3.get_object(Bucket=BUCKET, Key=good["model_key"])["Body"].read()
    check(good["columns"][:2] == ["vibration_rms", "temperature_celsius"] and good["train_rows"] > 0 and
          good["evaluation"]["model"]["pr_auc"] > good["evaluation"]["base_rate"]["pr_auc"],
          f"the fleet model beats the base rate on the fleet's test period ({good['evaluation']})")

    # 1. gw-a (no model of its own) pulls the newest: promoted by its rule.
    r = vigil_cmd("models", "pull")
    print(r.stdout, r.stderr)
    check(r.returncode == 0 and "fleet model fleet-1-good" in r.stdout and "promoted: the first model" in r.stdout,
          f"gw-a pulls and promotes fleet-1-good (exit {r.returncode})")
    ms = models("gw-a")
    check(len(ms) == 1 and ms[0][1] == "promoted" and json.loads(ms[0][2])["fleet_id"] == "fleet-1-good",
          f"gw-a: the fleet model is registered and current ({[(m[0], m[1]) for m in ms]})")
    fleet_id_a = ms[0][0] if ms else 0
    log = [json.loads(l) for l in open(f"{work}/proxy.jsonl")]
    check(any(l["method"] == "GET" and "list-type=2" in l["path"] for l in log) and
          all(l["verdict"] == "ok" for l in log) and sum(l["method"] == "GET" for l in log) >= 3,
          f"the listing and both GETs were signed right (botocore): {[(l['method'], l['verdict']) for l in log]}")
    with open(f"{work}/gw-a/models/model-{fleet_id_a}.json", "rb") as f:
        check(f.read() == good_body, "gw-a keeps the very file of the bucket")

    # 2. vigil predict with the fleet model equals Python's xgboost with the bucket's file.
    r = vigil_cmd("export", "--out", f"{work}/rows.csv")
    check(r.returncode == 0, "vigil export on gw-a")
    r = vigil_cmd("predict", "--model", str(fleet_id_a), "--input", f"{work}/rows.csv", "--out", f"{work}/scored.csv")
    check(r.returncode == 0, f"vigil predict --model {fleet_id_a} ({r.stderr.strip()[-200:]})")
    with open(f"{work}/rows.csv") as fh:
        rows = list(csv.DictReader(fh))
    with open(f"{work}/scored.csv") as fh:
        scored = [float(s["failure_probability_7d"]) for s in csv.DictReader(fh)]
    with open(f"{work}/bucket-model.json", "wb") as f:
        f.write(good_body)
    x = np.array([[float(row[c]) if row[c] != "" else np.nan for c in good["columns"]] for row in rows], dtype=np.float32)
    py = xgb.Booster(model_file=f"{work}/bucket-model.json").predict(xgb.DMatrix(x, missing=np.nan))
    worst = max(abs(a - float(b)) for a, b in zip(scored, py)) if scored else 1.0
    check(len(rows) > 1000 and len(scored) == len(rows) and worst <= 1e-6,
          f"vigil predict with the fleet model = Python's xgboost on {len(rows)} rows (largest difference {worst:.2e})")
    check(len(set(np.round(py, 6))) > 10, "the fleet model's probabilities are not all alike")

    # 3. A worse fleet model: refused on gw-a (fleet model current) and on gw-b (own model).
    r = vigil_cmd("train", gw="gw-b")
    check(r.returncode == 0 and "promoted" in r.stdout, f"gw-b trains its own model ({r.stdout[-300:]}{r.stderr[-300:]})")
    own_b = current("gw-b")
    fleet_train("--id", "fleet-2-worse", "--shuffle-labels")
    for gw, before in (("gw-a", [fleet_id_a]), ("gw-b", own_b)):
        r = vigil_cmd("models", "pull", gw=gw)
        print(r.stdout, r.stderr)
        ms = models(gw)
        worse = [m for m in ms if json.loads(m[2]).get("fleet_id") == "fleet-2-worse"]
        check(r.returncode == 0 and "fleet model fleet-2-worse" in r.stdout and "not promoted:" in r.stdout,
              f"{gw}: the worse fleet model is refused, saying why (exit {r.returncode})")
        check(len(worse) == 1 and worse[0][1] == "rejected", f"{gw}: it stays registered as rejected ({worse})")
        check(current(gw) == before and before, f"{gw}: the current model is still {before} ({current(gw)})")

    # 4. Checks that refuse: each mismatch its own error, nothing registered.
    tampered = dict(good, id="fleet-3-tampered", model_key=f"{PREFIX}/models/fleet-2-worse/model.json")
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/models/fleet-3-tampered/manifest.json", Body=json.dumps(tampered).encode())
    n = len(models("gw-a"))
    r = vigil_cmd("models", "pull")
    check(r.returncode == 2 and "sha256 mismatch" in r.stderr, f"a file that does not match its manifest's sha256 is "
          f"refused (exit {r.returncode}: {r.stderr.strip()[-300:]})")
    r = vigil_cmd("models", "pull", "--id", "fleet-1-good", cfg=config("gw-a", proxy_port, 'window = "2s"\n'))
    check(r.returncode == 2 and "config fingerprint mismatch" in r.stderr,
          f"another window: fingerprint refused (exit {r.returncode}: {r.stderr.strip()[-300:]})")
    extra_feature = ('[[features]]\nname = "vib_mean_5h"\nsensor = "vibration"\naggregate = "mean"\nduration = "5h"\n')
    with open(f"{work}/cols.toml", "w") as f:
        f.write(open(config("gw-a", proxy_port)).read() + extra_feature)
    r = vigil_cmd("models", "pull", "--id", "fleet-1-good", cfg=f"{work}/cols.toml")
    check(r.returncode == 2 and "feature columns mismatch" in r.stderr,
          f"another feature list: columns refused (exit {r.returncode}: {r.stderr.strip()[-300:]})")
    r = vigil_cmd("models", "pull", "--id", "fleet-1-good")
    check(r.returncode == 0 and "registered already" in r.stdout, f"a pulled id is not registered twice ({r.stdout[-200:]})")
    check(len(models("gw-a")) == n, f"nothing registered by the refused pulls ({len(models('gw-a'))} models, {n} before)")
finally:
    finish(procs, "fleet model check")
