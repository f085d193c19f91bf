"""[[feature_templates]] read alike by vigil and by the fleet jobs: `vigil check-config`
lists the columns a templated config expands to (common/config.cc), and
fleet/fleet_features.py's loader (which fleet/fleet_train.py also uses for the columns and
the config fingerprint) must give the same names, sensors, aggregates and durations in
the same order; a duplicate is refused by check-config with exit 2.

usage: feature_template_check.py VIGIL SOURCE_DIR WORK_DIR"""
import os, re, shutil, subprocess, sys, tomllib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklib import check, finish  # noqa: E402

vigil, src, work = sys.argv[1:4]
sys.path.insert(0, f"{src}/fleet")
from fleet_features import duration_ms, features_of  # noqa: E402

shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
toml = """
[[sensors]]
name = "vibration"
field = "vibration_rms"
min = 0.0
max = 100.0

[[sensors]]
name = "bearing-2.temp"
field = "bearing_temp"
min = -50.0
max = 500.0

[[features]]
name = "vib_last_1m"
sensor = "vibration"
aggregate = "last"
duration = "1m"

[[feature_templates]]
sensors = ["bearing-2.temp", "vibration"]
aggregates = ["mean", "std", "max"]
durations = ["5h", "90m", "1d"]
"""
path = f"{work}/t.toml"
with open(path, "w") as f:
    f.write(toml)
r = subprocess.run([vigil, "check-config", path], capture_output=True, text=True)
check(r.returncode == 0, f"check-config accepts the templated config (exit {r.returncode}: {r.stderr.strip()})")
# "  <name>  <sensor> <aggregate> <duration>  (template at FILE:LINE)"
listed = []
for line in r.stdout.splitlines()[2:]:
    m = re.match(r"\s+(\S+)\s+(\S+) (\S+) (\S+)", line)
    if m:
        listed.append((m.group(1), m.group(2), m.group(3), duration_ms(m.group(4))))
with open(path, "rb") as f:
    fleet = features_of(tomllib.load(f))
check(len(listed) == 1 + 2 * 3 * 3, f"check-config lists 19 columns (got {len(listed)})")
check(listed == fleet, "the fleet jobs expand the templates as vigil does" +
      ("" if listed == fleet else f":\n  vigil: {listed}\n  fleet: {fleet}"))
check(listed[1][0] == "bearing_2_temp_mean_5h", f"names follow <sensor>_<aggregate>_<duration> ({listed[1:2]})")
check("(template at " in r.stdout and "vib_last_1m" in r.stdout, "the listing says which template a column came from")

with open(path, "a") as f:
    f.write('\n[[features]]\nname = "tmax"\nsensor = "vibration"\naggregate = "max"\nduration = "24h"\n')
r = subprocess.run([vigil, "check-config", path], capture_output=True, text=True)
check(r.returncode == 2 and "computes the same as 'tmax'" in r.stderr,
      f"a template repeating a [[features]] definition is refused (exit {r.returncode}: {r.stderr.strip()})")
finish([], "feature_template_check")
