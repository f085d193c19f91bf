#!/usr/bin/python3
"""A fleet model announced over MQTT reaches a running gateway (issue 17).

usage: fleet_announce_check.py VIGIL_BINARY SOURCE_DIR WORK_DIR

One gateway: a real mosquitto on a free loopback port, `vigil run` (fleet.model_topic
subscribed, uploading to s3rver, processing every few seconds) fed by `vigil simulate`.
fleet/fleet_features.py and fleet/fleet_train.py --announce (local Dask, 1 worker) publish
a model to the bucket and a retained announcement on vigil/fleet/model. Checks:
  1. the daemon pulls it by itself: registered (fleet_id in params, the file of the
     bucket), decided by its own rule, /api/status and /metrics say so;
  2. the same announcement again (retained, as after a reconnect) is a no-op;
  3. a malformed announcement is logged and counted; ingest goes on (a telemetry message
     published afterwards is received);
  4. an announcement whose sha256 differs from its manifest's, and one of an id without a
     manifest, are refused with their reason, nothing registered;
  5. S3 down: a new announcement is retried (state "retrying", failures counted), /readyz
     stays 200, ingest goes on; SIGTERM still stops the daemon cleanly.
"""
import json, os, shutil, signal, sqlite3, subprocess, sys, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklib import check, free_port, port_open, wait, finish  # noqa: E402

vigil, src, work = sys.argv[1], sys.argv[2], sys.argv[3]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
procs = []
BUCKET, PREFIX, REGION, TOPIC = "fleet-lake", "company", "us-east-1", "vigil/fleet/model"
s3_port, broker, http_port = free_port(), free_port(), free_port()
env = dict(os.environ, VIGIL_S3_ACCESS_KEY_ID="S3RVER", VIGIL_S3_SECRET_ACCESS_KEY="S3RVER")
cfg = f"{work}/gw.toml"
with open(cfg, "w") as f:
    f.write('[lake]\nsegment_max_age = "1s"\n[processing]\ninterval = "2s"\nlabel_horizon = "12h"\n'
            '[simulate]\nmean_time_to_failure = "2d"\nrepair_time = "2h"\n'
            '[model]\nrounds = 40\nmin_failures = 3\nstride = "10m"\n'
            f'[upload]\nbucket = "{BUCKET}"\nendpoint = "http://127.0.0.1:{s3_port}"\nregion = "{REGION}"\n'
            f'prefix = "{PREFIX}"\ngateway_id = "gw-a"\ninterval = "300ms"\ntimeout = "2s"\nretry_max = "2s"\n'
            f'[fleet]\nmodel_topic = "{TOPIC}"\n')


def start(argv, log):
    p = subprocess.Popen(argv, stdout=open(f"{work}/{log}", "a"), stderr=subprocess.STDOUT, env=env)
    procs.append(p)
    return p


def status():
    return json.loads(urllib.request.urlopen(f"http://127.0.0.1:{http_port}/api/status", timeout=5).read())


def metric(name):
    for line in urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=5).read().decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def models():
    with sqlite3.connect(f"{work}/gw/vigil.db") as db:
        return db.execute("SELECT id, status, params FROM models ORDER BY id").fetchall()


def publish(topic, payload, retain=True):
    argv = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker), "-q", "1", "-t", topic, "-m", payload]
    subprocess.run(argv + (["-r"] if retain else []), check=True, timeout=30)


def log_text():
    return open(f"{work}/vigil.log").read()


def start_s3():
    p = start([f"{src}/tests/tools/node/node_modules/.bin/s3rver", "-d", f"{work}/s3", "-a", "127.0.0.1", "-p",
               str(s3_port), "--configure-bucket", BUCKET, "--silent"], "s3rver.log")
    wait(lambda: port_open(s3_port), 30, "s3rver listens")
    return p


try:
    s3 = start_s3()
    os.makedirs(f"{work}/persist", mode=0o777)
    os.chmod(f"{work}/persist", 0o777)
    with open(f"{work}/mosquitto.conf", "w") as f:
        f.write(open(f"{src}/config/mosquitto.conf").read())
        f.write(f"\nlistener {broker} 127.0.0.1\nallow_anonymous true\npersistence_location {work}/persist/\n")
    start(["/usr/sbin/mosquitto", "-c", f"{work}/mosquitto.conf"], "mosquitto.log")
    wait(lambda: port_open(broker), 20, "mosquitto listens")
    run = start([vigil, "run", "--config", cfg, "--data-dir", f"{work}/gw", "--port", str(broker),
                 "--http-listen", f"127.0.0.1:{http_port}"], "vigil.log")
    wait(lambda: status()["broker_connected"], 30, "vigil run is connected")
    check(f"subscribed to {TOPIC}" in log_text(), "vigil run subscribes to the fleet topic")
    t0 = time.time()
    r = subprocess.run([vigil, "simulate", "--config", cfg, "--data-dir", f"{work}/sim", "--port", str(broker),
                        "--days", "6", "--interval", "60", "--seed", "21", "--machine-ids", "PUMP-A1,FAN-A2,COMP-A3"],
                       stdout=open(f"{work}/simulate.log", "w"), stderr=subprocess.STDOUT, timeout=600)
    check(r.returncode == 0, f"vigil simulate exited {r.returncode} ({time.time() - t0:.0f} s)")
    # Everything received, published, uploaded and processed.
    wait(lambda: metric("vigil_upload_backlog_segments") == 0 and status()["open_segments"] == 0 and
         status()["received"] > 0 and status()["processor"]["runs"] > 2, 120, "lake published and uploaded")
    time.sleep(3)
    wait(lambda: metric("vigil_upload_backlog_segments") == 0, 60, "upload backlog drained")

    r = subprocess.run(["/usr/bin/python3", f"{src}/fleet/fleet_features.py", "--config", cfg, "--out",
                        f"{work}/fleet.db", "--workers", "1"], env=env, capture_output=True, text=True, timeout=600)
    check(r.returncode == 0, f"fleet_features.py exits 0 ({(r.stdout + r.stderr).strip()[-300:]})")
    r = subprocess.run(["/usr/bin/python3", f"{src}/fleet/fleet_train.py", "--config", cfg, "--features",
                        f"{work}/fleet.db", "--workers", "1", "--id", "fleet-1-good", "--announce",
                        f"127.0.0.1:{broker}"], env=env, capture_output=True, text=True, timeout=600)
    check(r.returncode == 0 and "announced on" in r.stdout,
          f"fleet_train.py --announce exits 0 ({(r.stdout + r.stderr).strip()[-400:]})")

    # 1. The daemon pulls it by itself.
    wait(lambda: status()["fleet"]["registered"] == 1, 60, "vigil run registers the announced fleet model")
    st = status()["fleet"]
    ms = models()
    fleet_rows = [m for m in ms if json.loads(m[2]).get("fleet_id") == "fleet-1-good"]
    check(len(fleet_rows) == 1 and fleet_rows[0][1] in ("promoted", "rejected"),
          f"fleet-1-good is registered once and decided by the gateway's rule ({[(m[0], m[1]) for m in ms]})")
    check(st["state"] == "done" and st["last_id"] == "fleet-1-good" and st["promoted"] + st["rejected"] == 1,
          f"/api/status fleet says so ({st})")
    check(fleet_rows and fleet_rows[0][1] == "promoted",
          "the gateway (no model of its own) promotes it by its rule")
    check("fleet model fleet-1-good registered as model" in log_text(), "the log says what was decided")
    check(metric("vigil_fleet_models_registered_total") == 1, "/metrics counts it")

    # 2. The same announcement again: a no-op.
    manifest = json.load(open(f"{work}/s3/{BUCKET}/{PREFIX}/models/fleet-1-good/manifest.json._S3rver_object"))
    good = json.dumps({"id": "fleet-1-good", "sha256": manifest["model_sha256"]})
    publish(TOPIC, good)
    wait(lambda: status()["fleet"]["known"] >= 1, 30, "the same id again is recognised")
    check(len(models()) == len(ms) and status()["fleet"]["registered"] == 1, "nothing registered twice")

    # 3. A malformed announcement: logged, counted; ingest goes on.
    received = status()["received"]
    publish(TOPIC, "this is not json {")
    wait(lambda: status()["fleet"]["malformed"] == 1, 30, "the malformed announcement is counted")
    check("ignoring a malformed fleet model announcement" in log_text(), "and logged")
    publish("industrial/machine/PUMP-A1/telemetry/vibration",
            '{"machine_id": "PUMP-A1", "timestamp_utc": "2030-01-01T00:00:00.000Z", "vibration_rms": 4.2}', False)
    wait(lambda: status()["received"] == received + 1, 30, "ingest goes on after it")
    check(status()["quarantined_by_reason"].get("bad_topic", 0) == 0, "the fleet topic never reaches the quarantine")

    # 4. An announcement that does not match its manifest: refused, nothing registered.
    import boto3
    from botocore.config import Config as BotoConfig
    bucket = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{s3_port}", region_name=REGION,
                          aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER",
                          config=BotoConfig(s3={"addressing_style": "path"}))
    bucket.put_object(Bucket=BUCKET, Key=f"{PREFIX}/models/fleet-3-copy/manifest.json",
                      Body=json.dumps(dict(manifest, id="fleet-3-copy")).encode())
    publish(TOPIC, json.dumps({"id": "fleet-3-copy", "sha256": "0" * 64}))
    wait(lambda: status()["fleet"]["state"] == "failed", 30, "an announcement whose sha256 is not the manifest's fails")
    check("differs from the announcement's sha256" in status()["fleet"]["last_error"],
          f"saying so ({status()['fleet']['last_error']})")
    publish(TOPIC, json.dumps({"id": "fleet-missing"}))
    wait(lambda: status()["fleet"]["state"] == "failed" and "fleet-missing" in status()["fleet"]["last_error"], 30,
         "an announced id without a manifest fails")
    check("NoSuchKey" in status()["fleet"]["last_error"] or "not found" in status()["fleet"]["last_error"].lower()
          or "404" in status()["fleet"]["last_error"], f"saying so ({status()['fleet']['last_error']})")
    check(len(models()) == len(ms), "nothing registered by it")

    # 5. S3 down: retried, ingest and readiness unaffected.
    s3.send_signal(signal.SIGTERM)
    s3.wait(timeout=30)
    failures = status()["fleet"]["failures"]
    publish(TOPIC, json.dumps({"id": "fleet-2-later"}))
    wait(lambda: status()["fleet"]["state"] == "retrying" and status()["fleet"]["failures"] >= failures + 2, 60,
         "an unreachable bucket is retried")
    check(urllib.request.urlopen(f"http://127.0.0.1:{http_port}/readyz", timeout=5).status == 200,
          "/readyz stays 200 while the bucket is down")
    received = status()["received"]
    publish("industrial/machine/PUMP-A1/telemetry/vibration",
            '{"machine_id": "PUMP-A1", "timestamp_utc": "2030-01-01T00:00:01.000Z", "vibration_rms": 4.3}', False)
    wait(lambda: status()["received"] == received + 1, 30, "ingest goes on while a pull is retried")
    t = time.time()
    run.send_signal(signal.SIGTERM)
    code = run.wait(timeout=60)
    check(code == 0, f"vigil run stops cleanly while a pull is retried (exit {code}, {time.time() - t:.1f} s)")
finally:
    finish(procs, "fleet announce check")
