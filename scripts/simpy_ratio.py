#!/usr/bin/env python3
"""Issue 5, target 3: lbsim against SimPy on the same M/M/c model, in one run.

usage: scripts/simpy_ratio.py [--lambda 8] [--mu 1] [--servers 10] [--jobs 200000]
                              [--seed 42] [--repeat 3] [--simpy PATH]

Runs, in turn and on one core each:
  1. SimPy: scripts/mmc_simpy.py (the model a user would otherwise write);
  2. lbsim: the M/M/c scenario through the whole balancer (a generated config
     equivalent to scenarios/mmc.json, so any lambda/mu/c/jobs work);
  3. the floor: examples/mmc_floor.rs, a bare heap-and-FIFO loop with lbsim's
     own random numbers and nothing else.
Each is repeated and the best wall time kept; SimPy and the floor report their
own loop time, lbsim its engine time (`--stats`), so interpreter start-up and
file writing count for nobody. Prints the three times, the mean waits (all
three must agree with Erlang C) and the ratios.

Needs: python3 with simpy (`pip install simpy`); cargo. Builds lbsim and the floor in
release first.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def erlang_c_wait(lam, mu, c):
    """Mean wait in queue of M/M/c (Erlang C)."""
    a = lam / mu
    rho = a / c
    if rho >= 1:
        return math.inf
    tail = a**c / math.factorial(c) / (1 - rho)
    p_wait = tail / (sum(a**k / math.factorial(k) for k in range(c)) + tail)
    return p_wait / (c * mu - lam)


def config(lam, mu, c, jobs):
    duration = jobs / lam
    return {
        "test_configurations": {
            "mmc": {"workers": c, "tests": jobs, "duration": duration,
                    "description": f"{c} servers, {jobs} tests at {lam}/s"}
        },
        "worker_profiles": {
            "one_core": {"memory_distribution": [1], "cuda_distribution": [0],
                         "cpu_cores_distribution": [1],
                         "description": "one core each: one test at a time"}
        },
        "test_profiles": {
            "exp": {"memory_requirements": [0], "cuda_requirements": [0],
                    "priority_distribution": [3], "cpu_requirements": [1],
                    "expected_duration": 1.0 / mu,
                    "duration_distribution": {"type": "exponential"},
                    "retries": 0, "timeout": 1e9,
                    "description": f"exponential run times, mean {1.0 / mu} s"}
        },
        "scenario_configurations": {
            "mmc": {"test_config": "mmc", "worker_profile": "one_core",
                    "test_profile": "exp",
                    "arrivals": {"type": "poisson", "rate": lam},
                    "churn": {"type": "none"}, "load": {"enabled": False},
                    "description": f"M/M/{c}: lambda {lam}, mu {mu}"}
        },
    }


def best_of(repeat, run):
    results = [run() for _ in range(repeat)]
    return min(results, key=lambda r: r[0])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--lambda", dest="lam", type=float, default=8.0)
    p.add_argument("--mu", type=float, default=1.0)
    p.add_argument("--servers", type=int, default=10)
    p.add_argument("--jobs", type=int, default=200_000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--simpy", default=os.path.join(ROOT, "scripts", "mmc_simpy.py"))
    a = p.parse_args()
    if not os.path.exists(a.simpy):
        sys.exit(f"simpy_ratio: no SimPy model at {a.simpy} (pass --simpy PATH)")

    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "lbsim",
                    "--example", "mmc_floor"], cwd=ROOT, check=True)
    lbsim = os.path.join(ROOT, "target", "release", "lbsim")
    floor = os.path.join(ROOT, "target", "release", "examples", "mmc_floor")
    model = [str(a.lam), str(a.mu), str(a.servers), str(a.jobs), str(a.seed)]

    def simpy():
        run = subprocess.run([sys.executable, a.simpy, *model], capture_output=True, text=True)
        if run.returncode != 0:
            hint = " (pip install simpy)" if "simpy" in run.stderr else ""
            sys.exit(f"simpy_ratio: the SimPy model failed{hint}:\n{run.stderr.strip()}")
        out = run.stdout.split()
        return float(out[3]), float(out[0])

    def bare():
        out = subprocess.run([floor, *model], capture_output=True, text=True,
                             check=True).stdout.split()
        return float(out[3]), float(out[0])

    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "mmc.json")
        res = os.path.join(tmp, "r.json")
        with open(cfg, "w") as f:
            json.dump(config(a.lam, a.mu, a.servers, a.jobs), f)

        def lb():
            run = subprocess.run([lbsim, "--config", cfg, "--seed", str(a.seed), "scenario",
                                  "mmc", "--stats", "--output", res],
                                 capture_output=True, text=True, check=True)
            wall = float(re.search(r"events in ([0-9.]+) s wall", run.stderr).group(1))
            with open(res) as f:
                metrics = json.load(f)["metrics"]
            wait = metrics["wait"]["avg"]
            return wall, wait

        t_simpy, w_simpy = best_of(a.repeat, simpy)
        t_lbsim, w_lbsim = best_of(a.repeat, lb)
        t_floor, w_floor = best_of(a.repeat, bare)

    theory = erlang_c_wait(a.lam, a.mu, a.servers)
    print(f"M/M/{a.servers}, lambda {a.lam}, mu {a.mu}, {a.jobs} jobs, seed {a.seed}; "
          f"best of {a.repeat}; Erlang C mean wait {theory:.4f} s")
    print(f"{'':14}{'wall s':>10}{'mean wait s':>14}")
    for name, t, w in [("SimPy", t_simpy, w_simpy), ("lbsim", t_lbsim, w_lbsim),
                       ("bare loop", t_floor, w_floor)]:
        wait = "n/a" if w is None else f"{w:.4f}"
        print(f"{name:14}{t:10.4f}{wait:>14}")
    print(f"lbsim is {t_simpy / t_lbsim:.1f}x faster than SimPy "
          f"(issue 5 asks for 100x: {t_simpy / 100:.4f} s)")
    print(f"the bare loop is {t_simpy / t_floor:.1f}x faster than SimPy; "
          f"lbsim costs {t_lbsim / t_floor:.1f}x the bare loop")


if __name__ == "__main__":
    main()
