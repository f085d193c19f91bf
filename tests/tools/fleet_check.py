#!/usr/bin/python3
"""Fleet features on Dask equal each gateway's own `features` table (issue 17).

usage: fleet_check.py VIGIL_BINARY SOURCE_DIR WORK_DIR

Two gateways (each its own mosquitto, `vigil run` with upload on and `vigil simulate`
with its own machines) upload to one s3rver bucket; fleet/fleet_features.py computes the
features of every machine on a local Dask cluster of 2 workers from the bucket, with
the gateways' TOML config. Checks: the same rows per machine as each gateway's vigil.db,
labels exactly, window values and features to 1e-9 relative. Then the same machine id
under a third gateway: the job refuses (exit 2, naming it), and with --merge-duplicates
treats it as one machine (an exact copy of a segment changes nothing).
"""
import glob, os, shutil, signal, socket, sqlite3, subprocess, sys, time, urllib.request, json

import boto3
import numpy as np
import pandas as pd
from botocore.config import Config as BotoConfig

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklib import check, free_port, port_open, wait, finish  # noqa: E402

vigil, src, work = sys.argv[1], sys.argv[2], sys.argv[3]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
os.chmod(work, 0o755)
procs = []
BUCKET = "fleet-lake"


def start(argv, log):
    p = subprocess.Popen(argv, stdout=open(f"{work}/{log}", "a"), stderr=subprocess.STDOUT)
    procs.append(p)
    return p


s3_port = free_port()
env = dict(os.environ, VIGIL_S3_ACCESS_KEY_ID="S3RVER", VIGIL_S3_SECRET_ACCESS_KEY="S3RVER")
GATEWAYS = {"gw-a": "PUMP-A1,FAN-A2", "gw-b": "PUMP-B1,COMP-B2"}


def config(gw):
    path = f"{work}/{gw}.toml"
    with open(path, "w") as f:
        f.write('[lake]\nsegment_max_age = "1s"\n[processing]\ninterval = "2s"\nlabel_horizon = "1d"\n'
                '[simulate]\nmean_time_to_failure = "1d"\nrepair_time = "2h"\n'
                f'[upload]\nbucket = "{BUCKET}"\nendpoint = "http://127.0.0.1:{s3_port}"\nregion = "us-east-1"\n'
                f'prefix = "company"\ngateway_id = "{gw}"\ninterval = "300ms"\n')
    return path


def metrics(http):
    with urllib.request.urlopen(f"http://127.0.0.1:{http}/metrics", timeout=10) as r:
        return {l.split()[0]: float(l.split()[1]) for l in r.read().decode().splitlines() if l and l[0] != "#"}


def status(http):
    with urllib.request.urlopen(f"http://127.0.0.1:{http}/api/status", timeout=10) as r:
        return json.loads(r.read())


try:
    start([f"{src}/tests/tools/node/node_modules/.bin/s3rver", "-d", f"{work}/s3", "-a", "127.0.0.1", "-p", str(s3_port),
           "--configure-bucket", BUCKET, "--silent"], "s3rver.log")
    wait(lambda: port_open(s3_port), 30, "s3rver listens")
    for i, (gw, machines) in enumerate(GATEWAYS.items()):
        d, broker, http = f"{work}/{gw}", free_port(), free_port()
        os.makedirs(f"{d}-persist", mode=0o777)
        os.chmod(f"{d}-persist", 0o777)
        with open(f"{work}/{gw}-mosquitto.conf", "w") as f:
            f.write(open(f"{src}/config/mosquitto.conf").read())
            f.write(f"\nlistener {broker} 127.0.0.1\nallow_anonymous true\npersistence_location {d}-persist/\n")
        start(["/usr/sbin/mosquitto", "-c", f"{work}/{gw}-mosquitto.conf"], f"{gw}-mosquitto.log")
        wait(lambda: port_open(broker), 20, f"{gw}: mosquitto listens")
        run = subprocess.Popen([vigil, "run", "--config", config(gw), "--data-dir", d, "--port", str(broker),
                                "--http-listen", f"127.0.0.1:{http}"], env=env, stdout=open(f"{work}/{gw}-vigil.log", "a"),
                               stderr=subprocess.STDOUT)
        procs.append(run)
        wait(lambda: status(http)["broker_connected"], 20, f"{gw}: vigil connected")
        r = subprocess.run([vigil, "simulate", "--config", config(gw), "--data-dir", f"{d}-sim", "--port", str(broker),
                            "--days", "4", "--interval", "60", "--seed", str(11 + i), "--machine-ids", machines],
                           stdout=open(f"{work}/{gw}-simulate.log", "w"), stderr=subprocess.STDOUT, timeout=600)
        check(r.returncode == 0, f"{gw}: vigil simulate exited {r.returncode}")

        def settled():
            st, m = status(http), metrics(http)
            ok = (st["open_segments"] == 0 and st["lake_area_bytes"]["raw"] == 0 and
                  m["vigil_upload_backlog_segments"] == 0 and not glob.glob(f"{d}/lake/.upload/**/*.jsonl", recursive=True))
            if not ok:
                return False
            n = m["vigil_upload_ledger_objects"]
            time.sleep(2)
            return n == metrics(http)["vigil_upload_ledger_objects"] and status(http)["lake_area_bytes"]["raw"] == 0
        wait(settled, 180, f"{gw}: processed and uploaded")
        run.send_signal(signal.SIGTERM)
        check(run.wait(timeout=60) == 0, f"{gw}: vigil run stopped cleanly")
        # What the shutdown published: uploaded and processed too.
        r = subprocess.run([vigil, "upload", "--config", config(gw), "--data-dir", d], env=env, capture_output=True, text=True)
        check(r.returncode == 0, f"{gw}: vigil upload after the stop ({r.stderr.strip()[-200:]})")
        r = subprocess.run([vigil, "process", "--config", config(gw), "--data-dir", d], capture_output=True, text=True)
        check(r.returncode == 0, f"{gw}: vigil process after the stop")

    t0 = time.time()
    r = subprocess.run(["/usr/bin/python3", f"{src}/fleet/fleet_features.py", "--config", f"{work}/gw-a.toml",
                        "--out", f"{work}/fleet.db", "--workers", "2"], env=env, capture_output=True, text=True,
                       timeout=900)
    check(r.returncode == 0, f"fleet job exits 0 in {time.time() - t0:.1f} s ({(r.stdout + r.stderr).strip()[-400:]})")
    fleet = pd.read_sql("SELECT * FROM features", sqlite3.connect(f"{work}/fleet.db"))
    total_labels = {0: 0, 1: 0}
    for gw in GATEWAYS:
        got = pd.read_sql("SELECT * FROM features ORDER BY machine_id, window_start_ms", sqlite3.connect(f"{work}/{gw}/vigil.db"))
        want = fleet[fleet.gateway_id == gw].sort_values(["machine_id", "window_start_ms"]).reset_index(drop=True)
        check(set(got.machine_id) == set(GATEWAYS[gw].split(",")), f"{gw}: its machines in its own table")
        if not check(len(got) == len(want) and (got.machine_id.values == want.machine_id.values).all() and
                     (got.window_start_ms.values == want.window_start_ms.values).all(),
                     f"{gw}: the same {len(got)} rows (machine, window) in the fleet table ({len(want)})"):
            continue
        a, b = got.label_failure_7d.astype(float).values, want.label_failure_7d.astype(float).values
        check(((np.isnan(a) & np.isnan(b)) | (a == b)).all(), f"{gw}: labels equal exactly "
              f"(1/0/NULL {int((a == 1).sum())}/{int((a == 0).sum())}/{int(np.isnan(a).sum())})")
        total_labels[0] += int((a == 0).sum())
        total_labels[1] += int((a == 1).sum())
        for col in [c for c in got.columns if c not in ("machine_id", "window_start_ms", "label_failure_7d")]:
            x, y = got[col].astype(float).values, want[col].astype(float).values
            bad = ~((np.isnan(x) & np.isnan(y)) | np.isclose(x, y, rtol=1e-9, atol=0))
            check(not bad.any(), f"{gw}: {col} equal to 1e-9 relative ({int(bad.sum())} differ)")
    check(total_labels[0] > 0 and total_labels[1] > 0, f"labels of both kinds in the comparison {total_labels}")

    # The same machine id under a third gateway.
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{s3_port}", region_name="us-east-1",
                      aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER",
                      config=BotoConfig(s3={"addressing_style": "path"}))
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="company/raw/gateway=gw-a/")["Contents"]
            if "machine_id=PUMP-A1/" in o["Key"]]
    s3.put_object(Bucket=BUCKET, Key=keys[0].replace("gateway=gw-a", "gateway=gw-c"),
                  Body=s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read())
    r = subprocess.run(["/usr/bin/python3", f"{src}/fleet/fleet_features.py", "--config", f"{work}/gw-a.toml",
                        "--out", f"{work}/dup.db"], env=env, capture_output=True, text=True, timeout=900)
    check(r.returncode == 2 and "PUMP-A1: gw-a, gw-c" in r.stderr, f"a duplicate machine id is refused ({r.stderr.strip()[-200:]})")
    r = subprocess.run(["/usr/bin/python3", f"{src}/fleet/fleet_features.py", "--config", f"{work}/gw-a.toml",
                        "--out", f"{work}/dup.db", "--merge-duplicates"], env=env, capture_output=True, text=True, timeout=900)
    merged = pd.read_sql("SELECT * FROM features WHERE machine_id = 'PUMP-A1' ORDER BY window_start_ms",
                         sqlite3.connect(f"{work}/dup.db")) if r.returncode == 0 else pd.DataFrame()
    own = fleet[fleet.machine_id == "PUMP-A1"].sort_values("window_start_ms").reset_index(drop=True)
    check(r.returncode == 0 and len(merged) == len(own) and (merged.gateway_id == "gw-a,gw-c").all() and
          np.allclose(merged.vib_mean_5h.astype(float), own.vib_mean_5h.astype(float), rtol=1e-12, equal_nan=True),
          "--merge-duplicates: one machine, a duplicated segment changes nothing")
finally:
    finish(procs, "fleet check")
