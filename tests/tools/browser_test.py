#!/usr/bin/python3
"""The dashboard in a real headless Chromium (Debian's chromium, chromium-driver and
python3-selenium).

usage: browser_test.py VIGIL_BINARY SOURCE_DIR WORK_DIR [--screenshots DIR]

A real mosquitto, `vigil run` and a 30-day simulated backfill of 10 machines (with
failures); then the page must show one tile per machine with the zone and the vibration
the API returns (first with the anomaly score, then, after `vigil train`, with the
failure probability the API returns), the machine view must draw its charts (predictions
included) with a failure marker where the failure is, the pipeline view its figures and
the newest quarantined messages, the browser console must stay free of errors,
no request may leave vigil's address, and the page must recover by itself from a daemon
restart. Screenshots of the fleet and machine views go to WORK_DIR (and to DIR).
Exit 0 when all holds, 1 with the reasons.
"""
import json, os, shutil, signal, socket, subprocess, sys, time, urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklib import problems, check, free_port, port_open, wait  # noqa: E402

vigil, src, work = sys.argv[1], sys.argv[2], sys.argv[3]
shots = sys.argv[sys.argv.index("--screenshots") + 1] if "--screenshots" in sys.argv else None
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
os.chmod(work, 0o755)  # mosquitto drops to its own user


def get(path):
    with urllib.request.urlopen(f"http://127.0.0.1:{http}{path}", timeout=10) as r:
        return json.loads(r.read())


broker_port, http = free_port(), free_port()
N = 10  # machines
os.makedirs(f"{work}/persist", mode=0o777)
os.chmod(f"{work}/persist", 0o777)
with open(f"{work}/mosquitto.conf", "w") as f:
    f.write(open(f"{src}/config/mosquitto.conf").read())
    f.write(f"\nlistener {broker_port} 127.0.0.1\nallow_anonymous true\npersistence_location {work}/persist/\n")
with open(f"{work}/vigil.toml", "w") as f:
    f.write('[lake]\nsegment_max_age = "1s"\n[processing]\ninterval = "2s"\n[retention]\ninterval = "1s"\n'
            '[simulate]\nmean_time_to_failure = "21d"\nbad_rate = 0.001\n')
procs = []


def start(argv, log):
    p = subprocess.Popen(argv, stdout=open(f"{work}/{log}", "a"), stderr=subprocess.STDOUT)
    procs.append(p)
    return p


def start_vigil():
    return start([vigil, "run", "--config", f"{work}/vigil.toml", "--data-dir", f"{work}/data", "--port",
                  str(broker_port), "--http-listen", f"127.0.0.1:{http}"], "vigil.log")


driver = None
try:
    start(["/usr/sbin/mosquitto", "-c", f"{work}/mosquitto.conf"], "mosquitto.log")
    daemon = start_vigil()
    wait(lambda: get("/api/status")["broker_connected"], 20, "vigil connected to the broker")
    sim = subprocess.run([vigil, "simulate", "--config", f"{work}/vigil.toml", "--data-dir", f"{work}/sim", "--port",
                          str(broker_port), "--days", "30", "--interval", "60", "--seed", "5", "--machines", "10"],
                         stdout=open(f"{work}/simulate.log", "w"), stderr=subprocess.STDOUT, timeout=600)
    check(sim.returncode == 0, f"vigil simulate exited {sim.returncode}")

    # Everything ingested, published, processed and measured: the broker may still be
    # delivering when simulate exits, and a backfill takes several processor runs, so the
    # counts must hold still across two whole processor runs, not merely be non-zero.
    last = {}

    def settled():
        st = get("/api/status")
        done = (st["accepted"] > 0 and st["open_segments"] == 0 and st["lake_area_bytes"]["raw"] == 0
                and st["processor"]["readings"] > 0 and len(get("/api/machines")["machines"]) == N)
        key = (st["accepted"], st["quarantined"], st["processor"]["readings"], st["processor"]["rows"])
        if not done or last.get("key") != key:
            last.update(key=key, runs=st["processor"]["runs"])
            return False
        return st["processor"]["runs"] >= last["runs"] + 2
    wait(settled, 120, "the backfill processed")
    api_machines = {m["machine_id"]: m for m in get("/api/machines")["machines"]}
    check(len(api_machines) == N, f"{N} machines in the API, got {len(api_machines)}")

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
              # No network beyond vigil: every other host name fails to resolve.
              "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    base = f"http://127.0.0.1:{http}"

    # ---- fleet view: one tile per machine, zone and vibration as the API says.
    driver.get(base + "/")
    wait(lambda: len(driver.find_elements(By.CSS_SELECTOR, ".tile")) == N, 15, "a tile per machine")
    for t in driver.find_elements(By.CSS_SELECTOR, ".tile"):
        mid = t.get_attribute("data-machine-id")
        m = api_machines.get(mid)
        if not check(m is not None, f"tile for unknown machine {mid}"):
            continue
        check(t.get_attribute("data-zone") == m["iso10816_zone"],
              f"{mid}: tile zone {t.get_attribute('data-zone')} != API {m['iso10816_zone']}")
        check(f"zone-{m['iso10816_zone']}" in t.get_attribute("class"), f"{mid}: tile not coloured by its zone")
        want = f"{m['latest']['vibration_rms']:.2f} mm/s"
        check(want in t.text, f"{mid}: tile shows no '{want}': {t.text!r}")
    check(all("anomaly score" in t.text for t in driver.find_elements(By.CSS_SELECTOR, ".tile")),
          "before a model, every tile shows the anomaly score")

    # A model: vigil train beside the daemon; its next run scores, the tiles show the risk.
    tr = subprocess.run([vigil, "train", "--config", f"{work}/vigil.toml", "--data-dir", f"{work}/data"],
                        capture_output=True, text=True, timeout=300)
    check(tr.returncode == 0 and "promoted" in tr.stdout, f"vigil train: {tr.stdout} {tr.stderr}")
    wait(lambda: all(m["failure_probability_7d"] is not None for m in get("/api/machines")["machines"]), 30,
         "the daemon scored with the new model")
    api_machines = {m["machine_id"]: m for m in get("/api/machines")["machines"]}

    def risks_shown():
        for t in driver.find_elements(By.CSS_SELECTOR, ".tile"):
            m = api_machines[t.get_attribute("data-machine-id")]
            if f"{100 * m['failure_probability_7d']:.1f} %" not in t.find_element(By.CSS_SELECTOR, ".risk").text:
                return False
        return True
    wait(risks_shown, 15, "every tile shows the failure probability the API returns")
    driver.save_screenshot(f"{work}/fleet.png")

    # ---- machine view of a machine with a failure: charts and a failure marker.
    # The machine whose last failure is the most recent: inside its last week.
    failed = sorted((m for m in api_machines.values() if m["last_failure"]), key=lambda m: m["last_failure"],
                    reverse=True)
    if check(failed, "the simulation produced no failure (mean_time_to_failure 21d over 30 days, 10 machines)"):
        m = failed[0]
        mid = m["machine_id"]
        driver.set_window_size(1400, 1700)  # tall enough for all three charts in the screenshot
        driver.find_element(By.CSS_SELECTOR, f'.tile[data-machine-id="{mid}"]').click()
        wait(lambda: len(driver.find_elements(By.CSS_SELECTOR, "#machine-view .uplot")) >= 2, 15, "machine charts")
        driver.find_element(By.CSS_SELECTOR, 'button[data-range="604800000"]').click()
        to = m["newest_window_ms"] + 1000
        series = get(f"/api/machines/{mid}/series?from={to - 604800000}&to={to}")
        fails = [f["t"] for f in series["failures"]]
        if check(fails, f"{mid}: no failure in the last week of its series"):
            wait(lambda: len(driver.find_elements(By.CSS_SELECTOR, "#chart-vibration .failure-marker")) == len(fails),
                 15, "failure markers on the vibration chart")
            marker = driver.find_element(By.CSS_SELECTOR, "#chart-vibration .failure-marker")
            check(int(marker.get_attribute("data-t")) == fails[0], "marker time != the failure's time")
            # Where it is drawn: the same fraction of the plot's width as the failure's time of
            # the x range (uPlot spans the first to the last point).
            over = driver.find_element(By.CSS_SELECTOR, "#chart-vibration .u-over")
            t0, t1 = series["t"][0], series["t"][-1]
            want_x = over.location["x"] + (fails[0] - t0) / (t1 - t0) * over.size["width"]
            check(abs(marker.location["x"] + 1 - want_x) <= 3,
                  f"marker drawn at x={marker.location['x']}, expected {want_x:.0f}")
            canvases = driver.find_elements(By.CSS_SELECTOR, "#machine-view canvas")
            check(len(canvases) >= 3, "machine view draws fewer than 3 charts (vibration, temperature, predictions)")
            check(series["predictions"]["t"] and driver.find_elements(By.CSS_SELECTOR, "#chart-prediction .uplot"),
                  "no predictions chart")
            # Predictions on the values' buckets, null where there is no window (a gap, not a line).
            pred = series["predictions"]
            check(pred["t"] == series["t"], "predictions not on the series' buckets")
            check(all(p is None for p, v in zip(pred["p"], series["series"]["vibration_rms"]) if v is None),
                  "a prediction in a bucket without readings")
        driver.save_screenshot(f"{work}/machine.png")
        # Polls without a new window neither refetch the series nor rebuild the charts.
        count = "return performance.getEntriesByType('resource').filter(e => e.name.includes('/series')).length"
        before = driver.execute_script(count)
        driver.execute_script("document.querySelector('#chart-vibration .uplot').dataset.kept = '1'")
        time.sleep(11)  # two polls
        check(driver.execute_script(count) == before, "the machine view refetched an unchanged series")
        check(driver.find_elements(By.CSS_SELECTOR, "#chart-vibration .uplot[data-kept]"), "a chart was rebuilt")

    # ---- pipeline view.
    driver.get(base + "/#/pipeline")
    wait(lambda: "connected" in driver.find_element(By.ID, "card-broker").text, 10, "pipeline view")
    wait(lambda: driver.find_element(By.ID, "card-rate").text.split("\n")[-1] != "measuring…", 15, "message rate")
    rows = driver.find_elements(By.CSS_SELECTOR, "#quarantine tbody tr")
    check(len(rows) >= 10, f"quarantine table has {len(rows)} reasons")
    # simulate.bad_rate sends malformed messages: the newest of them are listed with their reason.
    bad = int(open(f"{work}/simulate.log").read().split(" bad=")[1].split()[0])
    check(bad > 0, "the simulation sent no malformed message (simulate.bad_rate)")
    if bad:
        wait(lambda: driver.find_element(By.CSS_SELECTOR, "#samples li").text not in ("", "none"), 10,
             "quarantine samples in the pipeline view")
        reasons = [r.get_attribute("data-reason") for r in rows]
        check(any(li.text.split(":")[0] in reasons for li in driver.find_elements(By.CSS_SELECTOR, "#samples li")),
              "a quarantine sample shows its reason")

    # ---- the daemon restarts: the page says so, then recovers by itself.
    driver.get(base + "/")
    wait(lambda: len(driver.find_elements(By.CSS_SELECTOR, ".tile")) == N, 15, "tiles again")
    daemon.send_signal(signal.SIGTERM)
    check(daemon.wait(20) == 0, "vigil run did not stop cleanly")
    wait(lambda: driver.find_element(By.ID, "banner").is_displayed(), 15, "banner while vigil is down")
    daemon = start_vigil()
    wait(lambda: not driver.find_element(By.ID, "banner").is_displayed(), 20, "banner gone after restart")
    check(len(driver.find_elements(By.CSS_SELECTOR, ".tile")) == N, "tiles after the restart")

    # ---- nothing but vigil was asked for; no console errors (the failed polls while the
    # daemon was down are network errors Chromium logs by itself: those are expected).
    urls = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    stray = [u for u in urls if not u.startswith(base)]
    check(not stray, f"requests beyond vigil: {stray}")
    for entry in driver.get_log("browser"):
        if entry["level"] == "SEVERE" and "net::ERR_CONNECTION_REFUSED" not in entry["message"]:
            check(False, "console error: " + entry["message"])
    if shots:
        os.makedirs(shots, exist_ok=True)
        for name in ("fleet.png", "machine.png"):
            if os.path.exists(f"{work}/{name}"):
                shutil.copy(f"{work}/{name}", f"{shots}/{name}")
finally:
    if driver:
        driver.quit()
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()

if problems:
    print(f"{len(problems)} problem(s); logs in {work}", file=sys.stderr)
    sys.exit(1)
print("dashboard ok")
