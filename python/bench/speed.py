"""The Python package's speed figures (docs/python.md, "Speed"):

    python python/bench/speed.py [LBSIM_BIN]

1. ``lbsim.spike(workers=1000, tests=1_000_000, duration=3600)`` against the CLI's own
   ``--stats`` wall time for the same run, alternately, best of two each;
2. in-process ``submit_test`` + ``get_assignments`` round trips per second;
3. ``python -c "import lbsim"``, best of five.
"""

import re
import subprocess
import sys
import time

import lbsim
from lbsim import LoadBalancerService, TestRequirements, WorkerCapabilities

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/lbsim"
ARGS = dict(workers=1000, tests=1_000_000, duration=3600)


def cli_engine_s():
    out = subprocess.run([BIN, "spike", "--workers", "1000", "--tests", "1000000", "--duration", "3600",
                          "--stats"], capture_output=True, text=True, check=True)
    return float(re.search(r"in ([0-9.]+) s wall", out.stderr).group(1))


def py_s(keep_rows):
    """(the whole call, the engine's own --stats wall time), seconds."""
    t = time.perf_counter()
    r = lbsim.spike(**ARGS, keep_rows=keep_rows, stats=True)
    whole = time.perf_counter() - t
    return whole, float(re.search(r"in ([0-9.]+) s wall", r.stats).group(1))


def round_trips(n=200_000):
    lb = LoadBalancerService(clock="manual", scheduler="least_loaded")
    for i in range(8):
        lb.register_worker(f"w{i}", WorkerCapabilities(worker_id=f"w{i}", available_memory=64, cpu_cores=16))
    req = [TestRequirements(test_id=f"t{i}") for i in range(n)]
    t = time.perf_counter()
    for r in req:
        lb.submit_test(r)
        active = lb.get_assignments()
        if len(active) >= 64:  # complete the oldest so the pool never fills
            lb.update_assignment_status(active[0].test_id, "completed")
    return n / (time.perf_counter() - t)


def import_ms():
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import lbsim"], check=True)
        best = min(best, time.perf_counter() - t)
    base = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        base = min(base, time.perf_counter() - t)
    return 1000 * best, 1000 * base


cli, py, py_rows = [], [], []
for _ in range(2):
    cli.append(cli_engine_s())
    py.append(py_s(False))
    py_rows.append(py_s(True))
print(f"spike 1000 x 1M x 3600 s, best of 2: CLI engine {min(cli):.2f} s; lbsim.spike engine "
      f"{min(e for _, e in py):.2f} s, whole call {min(w for w, _ in py):.2f} s (keep_rows=False); "
      f"engine {min(e for _, e in py_rows):.2f} s, whole call {min(w for w, _ in py_rows):.2f} s "
      f"(keep_rows=True)")
print(f"  all: CLI {cli}, py {py}, py rows {py_rows}")
print(f"in-process submit_test + get_assignments: {round_trips():,.0f} round trips/s")
imp, base = import_ms()
print(f"python -c 'import lbsim': {imp:.0f} ms (python -c pass: {base:.0f} ms)")
