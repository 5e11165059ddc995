"""The simulator's commands as functions, with the CLI's options as keywords and the
CLI's defaults. Each run releases the GIL (runs in threads go in parallel) and stops
on Ctrl-C with ``KeyboardInterrupt``."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Dict, List, Mapping, Optional, Union

from . import _native

__all__ = [
    "Results",
    "BenchmarkResults",
    "SweepResults",
    "stress",
    "spike",
    "scenario",
    "replay",
    "benchmark",
    "sweep",
    "list_scenarios",
]

PathLike = Union[str, "os.PathLike[str]"]

_TEST_DTYPES = {
    "priority": "int64",
    "memory_gb": "float64",
    "cuda": "int64",
    "submitted_at": "float64",
    "assigned_at": "float64",
    "started_at": "float64",
    "finished_at": "float64",
    "attempts": "int64",
    "requeues": "int64",
    "wait": "float64",
    "expected_duration": "float64",
    "outcome": "category",
}
_DECISION_DTYPES = {"time": "float64", "score": "float64", "candidates": "int64", "attempt": "int64", "policy": "category"}


def _weights(w: Any) -> Optional[str]:
    """``composite_weights`` as the CLI's ``NAME:WEIGHT,...`` text (a dict is accepted)."""
    if w is None or isinstance(w, str):
        return w
    if isinstance(w, Mapping):
        return ",".join(f"{k}:{v}" for k, v in w.items())
    raise ValueError(f"composite_weights: must be 'name:weight,...' or a dict, not {w!r}")


def _path(name: str, p: Any) -> Optional[str]:
    if p is None:
        return None
    if isinstance(p, (str, os.PathLike)):
        return os.fspath(p)
    raise ValueError(f"{name}: must be a path, not {p!r}")


def _frame(rows: List[Dict[str, Any]], dtypes: Dict[str, str]) -> Any:
    import pandas as pd  # optional: only to_pandas needs it

    df = pd.DataFrame.from_records(rows)
    for col, dtype in dtypes.items():
        if col in df.columns:
            df[col] = df[col].astype(dtype)
    return df


class Results:
    """One run's results. ``configuration``, ``metrics`` and ``time_series`` are the
    results document's sections as plain dicts; ``to_json()`` is the document, byte
    for byte what the CLI writes with ``--output`` for the same options."""

    def __init__(self, native: Any) -> None:
        self._native = native
        self._doc: Optional[Dict[str, Any]] = None

    @property
    def document(self) -> Dict[str, Any]:
        """The whole results document as a dict."""
        if self._doc is None:
            self._doc = json.loads(self._native.to_json())
        return self._doc

    @property
    def configuration(self) -> Dict[str, Any]:
        return self.document["configuration"]

    @property
    def metrics(self) -> Dict[str, Any]:
        return self.document["metrics"]

    @property
    def time_series(self) -> Dict[str, Any]:
        return self.document["time_series"]

    @property
    def run(self) -> Dict[str, Any]:
        """How the run went: end reason, events, passes, decisions."""
        return self.document["run"]

    @property
    def stats(self) -> Optional[str]:
        """The ``--stats`` line, with ``stats=True``."""
        return self._native.stats

    def to_json(self) -> str:
        return self._native.to_json()

    def save(self, path: PathLike) -> None:
        """Writes ``to_json()`` to ``path`` (bytes as the CLI's ``--output``)."""
        with open(path, "wb") as f:
            f.write(self.to_json().encode("utf-8"))

    def tests(self) -> List[Dict[str, Any]]:
        """One dict per test with the per-test CSV's columns (``--csv``); times in
        simulated seconds, ``None`` for never. Empty with ``keep_rows=False``."""
        return self._native.tests()

    def decisions(self) -> List[Dict[str, Any]]:
        """One dict per scheduling decision, the decision log's columns (``--decisions``)."""
        return self._native.decisions()

    def workers(self) -> List[Dict[str, Any]]:
        """One dict per worker that was ever in the pool, in join order."""
        return self.document["workers"]

    def to_pandas(self, table: str = "tests") -> Any:
        """``tests``, ``decisions``, ``workers`` or ``time_series`` (one column per
        series, indexed by bucket) as a pandas DataFrame with numeric dtypes (pandas is
        needed for this method only)."""
        if table == "tests":
            return _frame(self.tests(), _TEST_DTYPES)
        if table == "decisions":
            return _frame(self.decisions(), _DECISION_DTYPES)
        if table == "workers":
            return _frame(self.workers(), {})
        if table == "time_series":
            import pandas as pd

            # Each series is [[bucket, value], ...]; one column each, on the buckets.
            series = {
                name: {t: v for t, v in points}
                for name, points in self.time_series.items()
                if isinstance(points, list)
            }
            df = pd.DataFrame(series).sort_index()
            df.index.name = "bucket"
            return df
        raise ValueError(f"table: must be tests, decisions, workers or time_series, not {table!r}")

    def __repr__(self) -> str:
        m = self.metrics
        return (
            f"<lbsim.Results {self.document['scheduler']}: {m.get('total_tests')} tests, "
            f"{m.get('completed_tests')} completed>"
        )


def _run(kind: str, params: Dict[str, Any], files: Dict[str, Any], keep_rows: bool) -> Results:
    params["composite_weights"] = _weights(params.get("composite_weights"))
    return Results(_native.run(kind, params, files, keep_rows))


def _files(output: Any, csv: Any, decisions: Any, stats: bool) -> Dict[str, Any]:
    return {
        "output": _path("output", output),
        "csv": _path("csv", csv),
        "decisions": _path("decisions", decisions),
        "stats": stats,
    }


def stress(
    *,
    workers: int = 20,
    tests: int = 100,
    duration: Optional[float] = None,
    burst: bool = False,
    dynamic: bool = False,
    seed: int = 42,
    scheduler: str = "performance_based",
    composite_weights: Union[str, Mapping[str, float], None] = None,
    work_stealing: bool = False,
    concurrency_keys: Optional[int] = None,
    load_view: Optional[str] = None,
    output: Optional[PathLike] = None,
    csv: Optional[PathLike] = None,
    decisions: Optional[PathLike] = None,
    stats: bool = False,
    keep_rows: bool = True,
) -> Results:
    """``lbsim stress``. ``duration`` defaults to ``LB_DEFAULT_DURATION``, else 60 s;
    ``keep_rows=False`` keeps no per-test rows (for ``tests()``) on huge runs."""
    params = dict(workers=workers, tests=tests, duration=duration, burst=burst, dynamic=dynamic,
                  seed=seed, scheduler=scheduler, composite_weights=composite_weights,
                  work_stealing=work_stealing, concurrency_keys=concurrency_keys, load_view=load_view)
    return _run("stress", params, _files(output, csv, decisions, stats), keep_rows)


def spike(
    *,
    workers: int = 20,
    tests: int = 100,
    duration: Optional[float] = None,
    seed: int = 42,
    scheduler: str = "performance_based",
    composite_weights: Union[str, Mapping[str, float], None] = None,
    work_stealing: bool = False,
    concurrency_keys: Optional[int] = None,
    load_view: Optional[str] = None,
    output: Optional[PathLike] = None,
    csv: Optional[PathLike] = None,
    decisions: Optional[PathLike] = None,
    stats: bool = False,
    keep_rows: bool = True,
) -> Results:
    """``lbsim spike``: bursts, dynamic workers and one load spike."""
    params = dict(workers=workers, tests=tests, duration=duration, seed=seed, scheduler=scheduler,
                  composite_weights=composite_weights, work_stealing=work_stealing,
                  concurrency_keys=concurrency_keys, load_view=load_view)
    return _run("spike", params, _files(output, csv, decisions, stats), keep_rows)


def scenario(
    name: str,
    *,
    config: Optional[PathLike] = None,
    workers: Optional[int] = None,
    tests: Optional[int] = None,
    duration: Optional[float] = None,
    seed: Optional[int] = None,
    scheduler: Optional[str] = None,
    composite_weights: Union[str, Mapping[str, float], None] = None,
    work_stealing: bool = False,
    concurrency_keys: Optional[int] = None,
    load_view: Optional[str] = None,
    output: Optional[PathLike] = None,
    csv: Optional[PathLike] = None,
    decisions: Optional[PathLike] = None,
    stats: bool = False,
    keep_rows: bool = True,
) -> Results:
    """``lbsim scenario NAME``: every default is the scenario's own."""
    params = dict(name=name, config=_path("config", config), workers=workers, tests=tests,
                  duration=duration, seed=seed, scheduler=scheduler,
                  composite_weights=composite_weights, work_stealing=work_stealing,
                  concurrency_keys=concurrency_keys, load_view=load_view)
    return _run("scenario", params, _files(output, csv, decisions, stats), keep_rows)


def replay(
    trace: PathLike,
    *,
    format: Optional[str] = None,
    time_scale: float = 1.0,
    load_factor: float = 1.0,
    workers: Optional[int] = None,
    cluster: Optional[str] = None,
    config: Optional[PathLike] = None,
    seed: int = 42,
    scheduler: str = "performance_based",
    composite_weights: Union[str, Mapping[str, float], None] = None,
    work_stealing: bool = False,
    output: Optional[PathLike] = None,
    csv: Optional[PathLike] = None,
    decisions: Optional[PathLike] = None,
    stats: bool = False,
    keep_rows: bool = True,
) -> Results:
    """``lbsim replay TRACE``: an SWF, lbsim CSV or coordinator recording."""
    params = dict(trace=_path("trace", trace), format=format, time_scale=time_scale,
                  load_factor=load_factor, workers=workers, cluster=cluster,
                  config=_path("config", config), seed=seed, scheduler=scheduler,
                  composite_weights=composite_weights, work_stealing=work_stealing)
    return _run("replay", params, _files(output, csv, decisions, stats), keep_rows)


class BenchmarkResults:
    """The benchmark grid's rows; ``to_json()`` is the CLI's ``--output`` file."""

    def __init__(self, text: str) -> None:
        self._text = text
        self.document: Dict[str, Any] = json.loads(text)

    @property
    def rows(self) -> List[Dict[str, Any]]:
        return self.document["benchmark_results"]

    def to_json(self) -> str:
        return self._text

    def to_pandas(self) -> Any:
        import pandas as pd

        return pd.json_normalize(self.rows)


def benchmark(
    full: bool = False,
    *,
    seed: Optional[int] = None,
    scheduler: Optional[str] = None,
    jobs: Optional[int] = None,
    output: Optional[PathLike] = None,
) -> BenchmarkResults:
    """``lbsim benchmark [--full]``: the reference grid, one run per cell on ``jobs``
    threads (default: every core)."""
    text = _native.benchmark(full, seed, scheduler, jobs)
    if output is not None:
        with open(output, "wb") as f:
            f.write(text.encode("utf-8"))
    return BenchmarkResults(text)


def _read_csv(path: str) -> List[Dict[str, Any]]:
    import csv as _csv

    def value(v: str) -> Any:
        for kind in (int, float):
            try:
                return kind(v)
            except ValueError:
                pass
        return v

    with open(path, newline="") as f:
        return [{k: value(v) for k, v in row.items()} for row in _csv.DictReader(f)]


class SweepResults:
    """A sweep's rows (the CLI's results CSV) and its summary, as lists of dicts."""

    def __init__(self, rows: List[Dict[str, Any]], summary: List[Dict[str, Any]]) -> None:
        self.rows = rows
        self.summary = summary

    def to_pandas(self) -> Any:
        import pandas as pd

        return pd.DataFrame.from_records(self.rows)


def sweep(
    grid: Union[PathLike, Mapping[str, Any]],
    *,
    output: Optional[PathLike] = None,
    jobs: Optional[int] = None,
    replications: Optional[int] = None,
    resume: bool = False,
) -> SweepResults:
    """``lbsim sweep GRID``: ``grid`` is a grid file or the same JSON as a dict.
    With ``output`` the results CSV (and its summary) are kept there, as the CLI's."""
    if isinstance(grid, Mapping):
        text, name = json.dumps(grid), "<grid>"
    else:
        name = _path("grid", grid) or ""
        with open(name, encoding="utf-8") as f:
            text = f.read()
    with tempfile.TemporaryDirectory(prefix="lbsim-sweep-") as tmp:
        out = _path("output", output) or os.path.join(tmp, "sweep_results.csv")
        summary = _native.sweep_grid(text, name, out, jobs, replications, resume)
        rows = _read_csv(out)
        summary_rows = _read_csv(os.fspath(summary)) if summary is not None else []
    return SweepResults(rows, summary_rows)


def list_scenarios(config: Optional[PathLike] = None) -> Dict[str, str]:
    """The config's scenarios (``config``, else ``LB_CONFIG_PATH``, else the
    embedded one): name -> description, in the file's order."""
    return dict(_native.list_scenarios(_path("config", config)))


