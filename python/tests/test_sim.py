"""The simulator from Python: the CLI's bytes, threads, pandas, bad input."""

import json
import subprocess
import threading

import pytest

import lbsim


def cli_json(lbsim_bin, tmp_path, *args):
    out = tmp_path / "cli.json"
    subprocess.run([lbsim_bin, *args, "--output", str(out)], check=True, capture_output=True)
    return out.read_bytes()


CASES = [
    ("stress", ["stress"], lambda: lbsim.stress()),
    ("stress_flags", ["stress", "--workers", "7", "--tests", "300", "--duration", "20", "--burst",
                      "--dynamic", "--seed", "5", "--scheduler", "least_loaded"],
     lambda: lbsim.stress(workers=7, tests=300, duration=20, burst=True, dynamic=True, seed=5,
                          scheduler="least_loaded")),
    ("spike", ["spike", "--workers", "10", "--tests", "400"], lambda: lbsim.spike(workers=10, tests=400)),
    ("scenario", ["scenario", "worker_churn", "--seed", "3"], lambda: lbsim.scenario("worker_churn", seed=3)),
    ("composite", ["stress", "--scheduler", "composite", "--composite-weights", "random:0.5,fifo:0.5",
                   "--work-stealing", "--concurrency-keys", "4"],
     lambda: lbsim.stress(scheduler="composite", composite_weights={"random": 0.5, "fifo": 0.5},
                          work_stealing=True, concurrency_keys=4)),
]


@pytest.mark.parametrize("name, args, run", CASES, ids=[c[0] for c in CASES])
def test_to_json_is_the_clis_output_file_byte_for_byte(name, args, run, lbsim_bin, tmp_path):
    assert run().to_json().encode() == cli_json(lbsim_bin, tmp_path, *args)


def test_a_replay_matches_the_cli_and_keeps_its_trace_section(lbsim_bin, tmp_path, repo_root):
    trace = repo_root / "traces" / "nasa-ipsc-sample.swf"
    expected = cli_json(lbsim_bin, tmp_path, "replay", str(trace), "--workers", "16", "--time-scale", "0.5")
    r = lbsim.replay(trace, workers=16, time_scale=0.5)
    assert r.to_json().encode() == expected
    assert r.document["trace"]["format"] == "swf"


def test_the_output_keywords_write_the_clis_files(lbsim_bin, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    lbsim.stress(tests=50, output=mine / "r.json", csv=mine / "t.csv", decisions=mine / "d.csv")
    subprocess.run([lbsim_bin, "stress", "--tests", "50", "--output", str(tmp_path / "r.json"),
                    "--csv", str(tmp_path / "t.csv"), "--decisions", str(tmp_path / "d.csv")],
                   check=True, capture_output=True)
    for f in ("r.json", "t.csv", "d.csv"):
        assert (mine / f).read_bytes() == (tmp_path / f).read_bytes()


def test_sections_rows_and_decisions_agree_with_the_document(tmp_path):
    r = lbsim.stress(workers=5, tests=200, seed=9, decisions=tmp_path / "d.csv")
    assert r.configuration["workers"] == 5 and r.configuration["tests"] == 200
    assert r.metrics["total_tests"] == 200
    assert isinstance(r.time_series, dict) and r.time_series
    tests = r.tests()
    assert len(tests) == 200 and {t["outcome"] for t in tests} <= {"completed", "failed", "pending", "running"}
    assert sum(t["outcome"] == "completed" for t in tests) == r.metrics["completed_tests"]
    decisions = r.decisions()
    log = (tmp_path / "d.csv").read_text().splitlines()
    assert len(decisions) == len(log) - 1
    assert decisions[0]["test"] == log[1].split(",")[1]
    assert all(d["policy"] == "performance_based" for d in decisions)
    assert len(r.workers()) == 5
    assert lbsim.stress(workers=5, tests=200, seed=9, keep_rows=False).tests() == []


def test_runs_in_threads_are_deterministic_and_equal_to_a_lone_run():
    alone = {seed: lbsim.stress(tests=2000, seed=seed, keep_rows=False).to_json() for seed in (1, 2)}
    got = {}

    def go(k):
        seed = 1 + k % 2
        got[k] = (seed, lbsim.stress(tests=2000, seed=seed, keep_rows=False).to_json())

    threads = [threading.Thread(target=go, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 4
    for seed, text in got.values():
        assert text == alone[seed]


def test_to_pandas_gives_typed_frames():
    pd = pytest.importorskip("pandas")
    r = lbsim.stress(tests=100)
    df = r.to_pandas()
    assert len(df) == 100
    assert df["submitted_at"].dtype == "float64" and df["priority"].dtype == "int64"
    assert isinstance(df["outcome"].dtype, pd.CategoricalDtype)
    assert r.to_pandas("decisions")["score"].dtype == "float64"
    assert len(r.to_pandas("workers")) == 20
    assert len(r.to_pandas("time_series")) > 0
    with pytest.raises(ValueError, match="^table"):
        r.to_pandas("nope")


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda: lbsim.stress(workers=0), "workers"),
        (lambda: lbsim.stress(tests=-1), "tests"),
        (lambda: lbsim.stress(duration=0), "duration"),
        (lambda: lbsim.stress(workers="many"), "workers"),
        (lambda: lbsim.stress(scheduler="nope"), "scheduler"),
        (lambda: lbsim.stress(load_view="foggy"), "load_view"),
        (lambda: lbsim.stress(composite_weights="random:x"), "composite_weights"),
        (lambda: lbsim.spike(seed=-3), "seed"),
        (lambda: lbsim.replay("x.swf", time_scale=0), "time_scale"),
        (lambda: lbsim.replay("x.swf", config="c.json"), "config"),
        (lambda: lbsim.replay("x.swf", format="xml"), "format"),
        (lambda: lbsim.benchmark(jobs=0), "jobs"),
    ],
)
def test_bad_input_raises_value_error_naming_the_keyword(call, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        call()


def test_an_unknown_scenario_is_a_value_error_and_a_missing_trace_not_found():
    with pytest.raises(ValueError, match="unknown scenario 'nope'"):
        lbsim.scenario("nope")
    with pytest.raises(FileNotFoundError, match="missing.swf"):
        lbsim.replay("missing.swf")


def test_list_scenarios_names_the_configs_scenarios():
    names = lbsim.list_scenarios()
    assert "worker_churn" in names and all(isinstance(d, str) and d for d in names.values())


def test_benchmark_matches_the_clis_file(lbsim_bin, tmp_path):
    expected = cli_json(lbsim_bin, tmp_path, "benchmark", "--jobs", "2", "--seed", "3")
    b = lbsim.benchmark(seed=3, jobs=2)
    assert b.to_json().encode() == expected
    assert len(b.rows) == 15


def test_sweep_matches_the_clis_csv(lbsim_bin, tmp_path):
    grid = {
        "base": {"stress": {"workers": 4, "tests": 60}},
        "axes": {"scheduler": ["fifo", "random"], "workers": [2, 4]},
    }
    path = tmp_path / "grid.json"
    path.write_text(json.dumps(grid))
    subprocess.run([lbsim_bin, "sweep", str(path), "--jobs", "2", "--replications", "2", "--output", str(tmp_path / "cli.csv")],
                   check=True, capture_output=True)
    s = lbsim.sweep(grid, jobs=2, replications=2, output=tmp_path / "py.csv")
    assert (tmp_path / "py.csv").read_bytes() == (tmp_path / "cli.csv").read_bytes()
    assert len(s.rows) == 8
    assert {r["point"] for r in s.summary} == {0, 1, 2, 3} and "metric" in s.summary[0]
