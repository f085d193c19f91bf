#!/usr/bin/python3
"""config/mosquitto-bridge.conf with two real mosquittos on loopback (issue 17).

usage: bridge_check.py SOURCE_DIR WORK_DIR

A central broker and a gateway broker whose config includes the shipped bridge file
(only the address moved to loopback, and the TLS and account lines left out: the loopback
central broker has neither). Checks: a message published retained on the central broker's
vigil/fleet/model before the gateway broker starts arrives on the gateway's broker,
retained; one published while the bridge is up arrives retained too (a subscriber that
comes later still gets it); nothing goes the other way; other central topics stay there.
"""
import os, shutil, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklib import problems, check, free_port, port_open, wait  # noqa: E402

src, work = sys.argv[1], sys.argv[2]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
os.chmod(work, 0o755)
procs = []
TOPIC = "vigil/fleet/model"
central, gateway = free_port(), free_port()
DROPPED = ("bridge_cafile", "bridge_tls_version", "remote_username", "remote_password")


def broker(name, port, extra=""):
    with open(f"{work}/{name}.conf", "w") as f:
        f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n"
                "log_type all\nconnection_messages true\n" + extra)
    p = subprocess.Popen(["/usr/sbin/mosquitto", "-c", f"{work}/{name}.conf"], stdout=open(f"{work}/{name}.log", "a"),
                         stderr=subprocess.STDOUT)
    procs.append(p)
    wait(lambda: port_open(port), 20, f"{name} broker listens")
    return p


def pub(port, topic, msg, retain=True):
    r = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-t", topic, "-m", msg] +
                       (["-r"] if retain else []), capture_output=True, text=True, timeout=20)
    check(r.returncode == 0, f"mosquitto_pub {msg} on :{port}")


def sub(port, topic, seconds):
    """Messages a new subscriber gets within `seconds`: [(retain flag, payload)]."""
    r = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-t", topic, "-W",
                        str(seconds), "-F", "%r %p"], capture_output=True, text=True, timeout=seconds + 10)
    return [tuple(l.split(" ", 1)) for l in r.stdout.splitlines() if l]


try:
    shipped = open(f"{src}/config/mosquitto-bridge.conf").read().splitlines()
    bridge = []
    for line in shipped:
        if line.startswith("address "):
            line = f"address 127.0.0.1:{central}"
        if line.split(" ", 1)[0] in DROPPED:
            continue
        bridge.append(line)
    check(any(l.startswith("topic vigil/fleet/# in 1") for l in bridge), "the shipped bridge brings vigil/fleet/# in")
    broker("central", central)
    pub(central, TOPIC, '{"id": "fleet-1"}')
    pub(central, "industrial/machine/X/telemetry/vibration", "central-only")
    broker("gateway", gateway, "\n".join(bridge) + "\n")
    got = []

    def arrived():
        got[:] = sub(gateway, TOPIC, 1)
        return bool(got)
    wait(arrived, 30, "the retained announcement reaches the gateway")
    check(('1', '{"id": "fleet-1"}') in got, f"published before the bridge: arrives retained on the gateway ({got})")

    pub(central, TOPIC, '{"id": "fleet-2"}')
    latest = []

    def fleet_2_arrived():
        latest[:] = sub(gateway, TOPIC, 1)
        return ("1", '{"id": "fleet-2"}') in latest
    wait(fleet_2_arrived, 20, "a live announcement reaches the gateway")
    check(latest == [("1", '{"id": "fleet-2"}')], f"published while bridged: the gateway retains the newest ({latest})")

    pub(gateway, TOPIC, "from-gateway", retain=False)
    pub(gateway, "vigil/fleet/other", "from-gateway-retained")
    time.sleep(1)
    check(sub(central, "vigil/fleet/#", 2) == [("1", '{"id": "fleet-2"}')],
          "nothing goes from the gateway to the central broker (in only)")
    check(sub(gateway, "industrial/#", 2) == [], "other central topics stay on the central broker")
finally:
    for p in procs:
        if p.poll() is None:
            p.terminate()
            p.wait(timeout=10)

if problems:
    print(f"{len(problems)} problem(s):\n  " + "\n  ".join(problems))
    sys.exit(1)
print("bridge check: all good")
