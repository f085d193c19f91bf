"""What the end-to-end checks (browser_test, upload_check, fleet_check, fleet_model_check)
share: one list of problems that check() and wait() report to, loopback ports, and the end
of a run."""
import socket, sys, time

problems = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        problems.append(what)
    return cond


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait(cond, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        try:
            if cond():
                return True
        except Exception:
            pass
        time.sleep(0.2)
    problems.append("timed out: " + what)
    print("FAIL: timed out:", what, flush=True)
    return False


def finish(procs, name):
    """Kills the processes still running, prints the problems and exits 1 when there are
    any, else says `name: all good`."""
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    if problems:
        print(f"{len(problems)} problem(s):\n  " + "\n  ".join(problems))
        sys.exit(1)
    print(f"{name}: all good")
