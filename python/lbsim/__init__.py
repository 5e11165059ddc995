"""lbsim from Python: the simulator (``stress``, ``spike``, ``scenario``, ``replay``,
``benchmark``, ``sweep``), the original tool's in-process API (``LoadBalancerService``,
``WorkerCapabilities``, ``WorkerLoad``, ``TestRequirements``) on lbsim's balancer core,
and ``Client``, ``Worker`` and ``CoordinatorLoadBalancerIntegration`` for ``lbsim serve``.

Names load on first use, so ``import lbsim`` stays fast.
"""

from __future__ import annotations

from typing import Any

from ._native import __version__

__all__ = [
    "__version__",
    "SCHEDULERS",
    "SCHEDULER_DESCRIPTIONS",
    "LoadBalancerService",
    "WorkerCapabilities",
    "WorkerLoad",
    "TestRequirements",
    "WorkerAssignment",
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
    "Client",
    "ClientError",
    "Worker",
    "CoordinatorLoadBalancerIntegration",
]

_WHERE = {
    "LoadBalancerService": "._service",
    "WorkerCapabilities": "._models",
    "WorkerLoad": "._models",
    "TestRequirements": "._models",
    "WorkerAssignment": "._models",
    "Results": "._sim",
    "BenchmarkResults": "._sim",
    "SweepResults": "._sim",
    "stress": "._sim",
    "spike": "._sim",
    "scenario": "._sim",
    "replay": "._sim",
    "benchmark": "._sim",
    "sweep": "._sim",
    "list_scenarios": "._sim",
    "Client": "._client",
    "ClientError": "._client",
    "Worker": "._worker",
    "CoordinatorLoadBalancerIntegration": "._client",
}


def __getattr__(name: str) -> Any:
    if name in ("SCHEDULERS", "SCHEDULER_DESCRIPTIONS"):
        from ._native import schedulers

        table = schedulers()
        globals()["SCHEDULERS"] = tuple(n for n, _ in table)
        globals()["SCHEDULER_DESCRIPTIONS"] = dict(table)
        return globals()[name]
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'lbsim' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(where, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list:
    return sorted(__all__)
