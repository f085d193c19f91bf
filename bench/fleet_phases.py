#!/usr/bin/python3
"""Where fleet/fleet_features.py spends its time, phase by phase, on a bucket bench/fleet.sh
filled (its s3rver restarted on the same directory and port):
  VIGIL_S3_ACCESS_KEY_ID=S3RVER VIGIL_S3_SECRET_ACCESS_KEY=S3RVER bench/fleet_phases.py WORK/vigil.toml
Phases: listing, local cluster start, the per-machine tasks (GETs + features + results back
to the client), cluster close, concat + to_sql; for 1 and 2 workers; then one machine's
task run in this process (no Dask) for the per-machine cost."""
import os, sqlite3, sys, tempfile, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fleet"))
import pandas as pd  # noqa: E402
from dask_cluster import dask_client  # noqa: E402
from fleet_features import list_lake, load_config, machine_rows  # noqa: E402


def main():
    c = load_config(sys.argv[1])
    for workers in (1, 2):
        t0 = time.time()
        lake = list_lake(c)
        t1 = time.time()
        with dask_client("", workers) as client:
            t2 = time.time()
            parts = client.gather([client.submit(machine_rows, c, m, o, pure=False) for m, o in sorted(lake.items())])
            t3 = time.time()
        t4 = time.time()
        out = pd.concat([p[0] for p in parts], ignore_index=True)
        with tempfile.TemporaryDirectory() as tmp, sqlite3.connect(f"{tmp}/f.db") as db:
            out.to_sql("features", db, index=False)
        t5 = time.time()
        print(f"workers {workers}: list {t1 - t0:.2f} s, cluster start {t2 - t1:.2f} s, tasks (GET + features) "
              f"{t3 - t2:.2f} s, cluster close {t4 - t3:.2f} s, concat + to_sql {t5 - t4:.2f} s ({len(out)} rows); "
              f"total {t5 - t0:.2f} s")
    m, o = sorted(lake.items())[0]
    t = time.time()
    machine_rows(c, m, o)
    print(f"one machine's task in-process: {time.time() - t:.2f} s ({len(lake)} machines)")


if __name__ == "__main__":
    main()
