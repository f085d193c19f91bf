#!/usr/bin/python3
"""The upload of raw segments to an S3-compatible bucket, end to end (issue 17).

usage: upload_check.py VIGIL_BINARY SOURCE_DIR WORK_DIR

A real mosquitto, `vigil run` fed by `vigil simulate`, s3rver (npm, the bucket) behind
s3_sigv4_proxy.py, which checks every request's SigV4 signature with botocore (s3rver
accepts any). Phases:
  1. upload: every object signed right, PUT once, its SHA-256 the ledger's; the objects'
     lines are exactly the lake's lines (raw + archive), keys in the Hive layout.
  2. endpoint down: ingest goes on (/readyz 200, messages accepted), failures and backlog
     in /metrics; endpoint back: the backlog drains.
  3. wrong credentials: `vigil upload` fails with a clear error naming the cause; `vigil
     run` with them keeps ingesting.
  4. kill -9 during uploads (slow endpoint): after the restart no key of the ledger is sent
     again, every object's SHA-256 equals its segment's, nothing lost.
  5. retention with a backlog: archive trimmed to nothing while the endpoint is down; every
     segment still arrives when it is back.
Exit 0 when every check holds, 1 with the failures.
"""
import collections, glob, hashlib, json, os, re, shutil, signal, socket, subprocess, sys, time, urllib.request

import boto3
from botocore.config import Config as BotoConfig

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklib import check, free_port, port_open, wait, finish  # noqa: E402

vigil, src, work = sys.argv[1], sys.argv[2], sys.argv[3]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
os.chmod(work, 0o755)  # mosquitto drops to its own user
BUCKET, REGION, AK, SK, GW = "vigil-lake", "eu-central-1", "AKVIGILTEST", "s3cr3t/with+chars", "gw-1"
s3rver = os.path.join(src, "tests/tools/node/node_modules/.bin/s3rver")


broker_port, http, s3_port, proxy_port = free_port(), free_port(), free_port(), free_port()
data = f"{work}/data"
proxy_log = f"{work}/proxy.jsonl"
os.makedirs(f"{work}/persist", mode=0o777)
os.chmod(f"{work}/persist", 0o777)
with open(f"{work}/mosquitto.conf", "w") as f:
    f.write(open(f"{src}/config/mosquitto.conf").read())
    f.write(f"\nlistener {broker_port} 127.0.0.1\nallow_anonymous true\npersistence_location {work}/persist/\n")
with open(f"{work}/secret", "w") as f:
    f.write(SK + "\n")
os.chmod(f"{work}/secret", 0o600)
with open(f"{work}/wrong-secret", "w") as f:
    f.write("not-the-key\n")
os.chmod(f"{work}/wrong-secret", 0o600)


def write_config(name, retention="", secret_file="secret"):
    with open(f"{work}/{name}", "w") as f:
        f.write('[lake]\nsegment_max_age = "1s"\n[processing]\ninterval = "2s"\n'
                f'[retention]\ninterval = "1s"\n{retention}\n'
                f'[upload]\nbucket = "{BUCKET}"\nendpoint = "http://127.0.0.1:{proxy_port}"\nregion = "{REGION}"\n'
                f'prefix = "plant-1/lake"\ngateway_id = "{GW}"\naccess_key_id = "{AK}"\n'
                f'secret_key_file = "{work}/{secret_file}"\ninterval = "300ms"\nretry_max = "1s"\n')


write_config("vigil.toml")
write_config("trim.toml", retention='archive_max_bytes = "1"')
write_config("wrong.toml", secret_file="wrong-secret")
procs = []


def start(argv, log):
    p = subprocess.Popen(argv, stdout=open(f"{work}/{log}", "a"), stderr=subprocess.STDOUT)
    procs.append(p)
    return p


def start_proxy(delay=0.0):
    p = start(["/usr/bin/python3", f"{src}/tests/tools/s3_sigv4_proxy.py", str(proxy_port), str(s3_port), AK, SK, REGION,
               proxy_log, str(delay)], "proxy.log")
    wait(lambda: port_open(proxy_port), 20, "the signing-checking proxy listens")
    return p


def stop(p, sig=signal.SIGTERM):
    p.send_signal(sig)
    p.wait(timeout=60)


def start_vigil(config="vigil.toml"):
    p = start([vigil, "run", "--config", f"{work}/{config}", "--data-dir", data, "--port", str(broker_port),
               "--http-listen", f"127.0.0.1:{http}"], "vigil.log")
    wait(lambda: get_json("/api/status")["broker_connected"], 20, "vigil connected to the broker")
    return p


def get(path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{http}{path}", timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def get_json(path):
    return json.loads(get(path)[1])


def metric(name):
    for line in get("/metrics")[1].splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return -1


def simulate(ids, days, seed):
    r = subprocess.run([vigil, "simulate", "--config", f"{work}/vigil.toml", "--data-dir", f"{work}/sim-{seed}",
                        "--port", str(broker_port), "--days", str(days), "--interval", "120", "--seed", str(seed),
                        "--machine-ids", ids], stdout=open(f"{work}/simulate.log", "a"), stderr=subprocess.STDOUT,
                       timeout=600)
    check(r.returncode == 0, f"vigil simulate {ids} exited {r.returncode}")


def queue_files():
    return [p for p in glob.glob(f"{data}/lake/.upload/**/*.jsonl", recursive=True)]


def lake_line_count():
    return sum(sum(1 for _ in open(p, "rb")) for a in ("raw", "archive")
               for p in glob.glob(f"{data}/lake/{a}/**/*.jsonl", recursive=True))


def drained_now():
    return (metric("vigil_upload_backlog_segments") == 0 and not queue_files() and
            get_json("/api/status")["open_segments"] == 0, len(ledger()), lake_line_count())


def drained():
    # Settled: the same state twice, 1.5 s apart (more than segment_max_age and upload.interval).
    a = drained_now()
    if not a[0]:
        return False
    time.sleep(1.5)
    return a == drained_now()


def ledger():
    recs = []
    with open(f"{data}/upload/ledger.tsv") as f:
        for line in f:
            if line.endswith("\n"):
                key, size, sha, etag, when = line.rstrip("\n").split("\t")
                recs.append({"key": key, "size": int(size), "sha": sha, "etag": etag})
    return recs


def proxy_requests():
    if not os.path.exists(proxy_log):
        return []
    return [json.loads(l) for l in open(proxy_log) if l.strip()]


s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{proxy_port}", region_name=REGION, aws_access_key_id=AK,
                  aws_secret_access_key=SK, config=BotoConfig(s3={"addressing_style": "path"}))


def bucket_objects():
    out, token = {}, None
    while True:
        kw = {"Bucket": BUCKET, "Prefix": "plant-1/lake/"}
        if token:
            kw["ContinuationToken"] = token
        r = s3.list_objects_v2(**kw)
        for o in r.get("Contents", []):
            out[o["Key"]] = s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read()
        if not r.get("IsTruncated"):
            return out
        token = r["NextContinuationToken"]


def lake_lines():
    c = collections.Counter()
    for area in ("raw", "archive"):
        for p in glob.glob(f"{data}/lake/{area}/**/*.jsonl", recursive=True):
            if not os.path.basename(p).startswith("."):
                c.update(open(p, "rb").read().splitlines())
    return c


def check_bucket(what, expect_lines=None):
    objs = bucket_objects()
    recs = ledger()
    by_key = {r["key"]: r for r in recs}
    check(len(by_key) == len(recs), f"{what}: no key twice in the ledger ({len(recs)} records)")
    check(set(objs) == set(by_key), f"{what}: the bucket holds exactly the ledger's keys ({len(objs)} vs {len(by_key)})")
    key_re = re.compile(r"^plant-1/lake/raw/gateway=gw-1/date=\d{4}-\d\d-\d\d/machine_id=[A-Za-z0-9_.-]+/"
                        r"[a-z_]+-\d{13}-\d{6,}\.jsonl$")
    bad_keys = [k for k in objs if not key_re.match(k)]
    check(not bad_keys, f"{what}: every key in the Hive layout with gateway=gw-1 ({bad_keys[:3]})")
    bad_sha = [k for k, b in objs.items() if k in by_key and
               (hashlib.sha256(b).hexdigest() != by_key[k]["sha"] or len(b) != by_key[k]["size"])]
    check(not bad_sha, f"{what}: every object's SHA-256 and size equal the ledger's ({bad_sha[:3]})")
    bad_etag = [k for k, b in objs.items() if k in by_key and hashlib.md5(b).hexdigest() != by_key[k]["etag"]]
    check(not bad_etag, f"{what}: the ledger's ETags are the servers' (MD5 of the bytes) ({bad_etag[:3]})")
    uploaded = collections.Counter()
    for b in objs.values():
        uploaded.update(b.splitlines())
    if expect_lines is not None:
        check(uploaded == expect_lines, f"{what}: the objects' lines are exactly the lake's "
              f"({sum(uploaded.values())} uploaded, {sum(expect_lines.values())} in the lake)")
    reqs = proxy_requests()
    bad = [r for r in reqs if r["verdict"] not in ("ok",) and r["verdict"] != "SignatureDoesNotMatch-expected"]
    return objs, uploaded, reqs, bad


try:
    start(["/usr/sbin/mosquitto", "-c", f"{work}/mosquitto.conf"], "mosquitto.log")
    start([s3rver, "-d", f"{work}/s3", "-a", "127.0.0.1", "-p", str(s3_port), "--configure-bucket", BUCKET, "--silent",
           "--allow-mismatched-signatures"],
          "s3rver.log")
    wait(lambda: port_open(s3_port), 30, "s3rver listens")
    proxy = start_proxy()

    # ---- 1. upload
    daemon = start_vigil()
    simulate("PUMP-1,FAN-2", 2, 1)
    wait(drained, 120, "phase 1: every published segment uploaded")
    wait(lambda: get_json("/api/status")["lake_area_bytes"]["raw"] == 0, 60, "phase 1: everything processed")
    objs, uploaded, reqs, _ = check_bucket("phase 1", lake_lines())
    puts = [r for r in reqs if r["method"] == "PUT"]
    check(puts and all(r["verdict"] == "ok" and r["status"] == 200 for r in puts),
          f"phase 1: botocore accepts every PUT's signature ({collections.Counter(r['verdict'] for r in puts)})")
    per_key = collections.Counter(r["path"] for r in puts)
    check(max(per_key.values()) == 1, "phase 1: each object PUT once")
    check(metric("vigil_upload_objects_total") == len(objs), "phase 1: vigil_upload_objects_total counts the objects")
    check(metric("vigil_upload_last_success_timestamp_seconds") > time.time() - 300, "phase 1: last success recent")

    # ---- 2. endpoint down, then back
    stop(proxy)
    accepted0, failures0 = metric("vigil_messages_accepted_total"), metric("vigil_upload_failures_total")
    simulate("COMP-3", 1, 2)
    wait(lambda: get_json("/api/status")["open_segments"] == 0 and metric("vigil_upload_backlog_segments") > 0, 60,
         "phase 2: segments queued while the endpoint is down")
    check(metric("vigil_messages_accepted_total") > accepted0, "phase 2: ingest goes on while the endpoint is down")
    check(get("/readyz")[0] == 200, "phase 2: /readyz stays 200 (an unreachable bucket does not stop ingest)")
    wait(lambda: metric("vigil_upload_failures_total") > failures0, 20, "phase 2: failures counted")
    backlog = metric("vigil_upload_backlog_segments")
    st = subprocess.run([vigil, "status", "--config", f"{work}/vigil.toml", "--data-dir", data, "--json"],
                        capture_output=True, text=True)
    check(json.loads(st.stdout)["upload"]["queued_segments"] > 0, "phase 2: vigil status shows the queued segments")
    proxy = start_proxy()
    wait(drained, 120, "phase 2: the backlog drains when the endpoint is back")
    wait(lambda: get_json("/api/status")["lake_area_bytes"]["raw"] == 0, 60, "phase 2: everything processed")
    print(f"phase 2: backlog of {backlog:.0f} segment(s) drained", flush=True)
    check_bucket("phase 2", lake_lines())

    # ---- 3. wrong credentials
    stop(daemon)
    daemon = start_vigil("wrong.toml")
    simulate("MOTOR-4", 1, 3)
    wait(lambda: get_json("/api/status")["open_segments"] == 0 and metric("vigil_upload_failures_total") > 0, 60,
         "phase 3: uploads refused with wrong credentials")
    check(get("/readyz")[0] == 200, "phase 3: /readyz 200 with wrong credentials (ingest goes on)")
    log = open(f"{work}/vigil.log").read()
    check("SignatureDoesNotMatch" in log and "check upload.access_key_id" in log,
          "phase 3: vigil run logs a clear error about the credentials")
    stop(daemon)
    r = subprocess.run([vigil, "upload", "--config", f"{work}/wrong.toml", "--data-dir", data], capture_output=True,
                       text=True, timeout=120)
    check(r.returncode != 0 and "SignatureDoesNotMatch" in r.stderr and "secret" in r.stderr,
          f"phase 3: vigil upload with a wrong key fails clearly (exit {r.returncode}: {r.stderr.strip()[-300:]})")
    r = subprocess.run([vigil, "upload", "--config", f"{work}/vigil.toml", "--data-dir", data], capture_output=True,
                       text=True, timeout=300)
    check(r.returncode == 0 and "still queued" in r.stderr, f"phase 3: vigil upload catches up ({r.stderr.strip()[-300:]})")
    check(not queue_files(), "phase 3: nothing left queued after vigil upload")
    check_bucket("phase 3", lake_lines())

    # ---- 4. kill -9 during uploads (a slow endpoint: 0.15 s per PUT)
    stop(proxy)
    proxy = start_proxy(0.15)
    daemon = start_vigil()
    simulate("FAN-5,PUMP-6,COMP-7", 3, 4)
    wait(lambda: len(ledger()) > len(objs) + 10, 60, "phase 4: uploads under way")
    os.kill(daemon.pid, signal.SIGKILL)
    daemon.wait()
    killed_at = time.time()
    in_ledger = {r["key"] for r in ledger()}
    left = len(queue_files())
    check(left > 0, f"phase 4: killed with {left} segment(s) still queued")
    daemon = start_vigil()
    wait(drained, 240, "phase 4: the backlog drains after the restart")
    wait(lambda: get_json("/api/status")["lake_area_bytes"]["raw"] == 0, 60, "phase 4: everything processed")
    after = [r for r in proxy_requests() if r["method"] == "PUT" and r["t"] > killed_at]
    resent = [r["path"] for r in after if r["path"].split("/", 2)[2] in in_ledger]
    check(not resent, f"phase 4: no object of the ledger sent again after the restart ({resent[:3]})")
    per_key = collections.Counter(r["path"] for r in proxy_requests() if r["method"] == "PUT" and r["verdict"] == "ok")
    twice = [k for k, n in per_key.items() if n > 1]
    check(len(twice) <= 1, f"phase 4: at most the one PUT in flight at the kill repeated ({twice})")
    check_bucket("phase 4", lake_lines())

    # ---- 5. retention with a backlog: the archive is trimmed to nothing while the endpoint is down
    stop(daemon)
    stop(proxy)
    before = lake_lines()
    daemon = start_vigil("trim.toml")
    wait(lambda: not glob.glob(f"{data}/lake/archive/**/*.jsonl", recursive=True), 30, "phase 5: the old archive trimmed")
    removed0 = metric("vigil_retention_removed_segments_total")
    simulate("MOTOR-8", 2, 5)
    wait(lambda: metric("vigil_retention_removed_segments_total") > removed0 and
         metric("vigil_upload_backlog_segments") > 0 and get_json("/api/status")["open_segments"] == 0 and
         get_json("/api/status")["lake_area_bytes"]["raw"] == 0 and
         not glob.glob(f"{data}/lake/archive/**/*.jsonl", recursive=True), 60,
         "phase 5: retention trims the new segments from the archive while they wait for upload")
    accepted = metric("vigil_messages_accepted_total")
    print(f"phase 5: {metric('vigil_upload_backlog_segments'):.0f} segment(s) queued, none left in lake/raw or "
          "lake/archive", flush=True)
    proxy = start_proxy()
    wait(drained, 120, "phase 5: the backlog drains")
    objs, uploaded, _, _ = check_bucket("phase 5")
    new = uploaded - before
    check(sum(new.values()) == accepted and all(n == 1 for n in new.values()),
          f"phase 5: every message of the trimmed period uploaded once ({sum(new.values())} lines, {accepted:.0f} accepted)")
    check(all(b'"machine_id":"MOTOR-8"' in l or b"MOTOR-8" in l for l in new), "phase 5: the new lines are MOTOR-8's")
    stop(daemon)
finally:
    finish(procs, "upload check")
