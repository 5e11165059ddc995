"""``LoadBalancerService``: the original tool's in-process API on lbsim's balancer core.

Every call that can place tests (submit, register, a load update, a completion) runs a
scheduling pass at once, as the original did. A test that no registered worker could
ever hold is failed at once (worker ``"none"``); one that only waits for capacity stays
pending (the original failed it after five re-queues within one call).
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import _native
from ._models import TestRequirements, WorkerAssignment, WorkerCapabilities, WorkerLoad

__all__ = ["LoadBalancerService"]

_CUDA_NAMES = ("cuda", "gpu")
_NUM = (int, float)
_OPT_STR = (str, type(None))
_STATUSES = ("running", "completed", "failed")


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name}: must be a number, not {value!r}")
    return float(value)


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name}: must be a whole number >= 0, not {value!r}")
    return value


def _text(name: str, value: Any) -> Optional[str]:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name}: must be a string or None, not {value!r}")
    return value


def _devices(name: str, accelerators: Any) -> int:
    if not isinstance(accelerators, dict):
        raise ValueError(f"{name}: must be a dict of type -> count, not {accelerators!r}")
    total = 0
    for kind, count in accelerators.items():
        if kind not in _CUDA_NAMES:
            raise ValueError(
                f"{name}: '{kind}' is not modelled (lbsim counts CUDA devices: 'cuda' or 'gpu')"
            )
        total += _count(f"{name}['{kind}']", count)
    return total


def _spec_value(specs: Any, section: str, key: str) -> Any:
    part = specs.get(section) if isinstance(specs, dict) else None
    return part.get(key) if isinstance(part, dict) else None


def _worker_args(caps: WorkerCapabilities) -> Tuple[float, int, int, Optional[List[str]], float]:
    """(memory GB, cores, CUDA devices, backends, speed) of a worker, checked."""
    memory = _number("available_memory", caps.available_memory)
    if memory <= 0:
        memory = _spec_value(caps.hardware_specs, "memory", "available_gb") or 0.0
        memory = _number("hardware_specs['memory']['available_gb']", memory)
    if memory <= 0:
        raise ValueError("available_memory: must be GB > 0 (or give hardware_specs['memory'])")
    cores = _count("cpu_cores", caps.cpu_cores)
    if cores == 0:
        cores = _spec_value(caps.hardware_specs, "cpu", "cores") or caps.cpu_threads or 1
        cores = _count("hardware_specs['cpu']['cores']", cores)
    devices = _devices("available_accelerators", caps.available_accelerators)
    backends = caps.supported_backends
    if not isinstance(backends, (list, tuple)):
        raise ValueError(f"supported_backends: must be a list of names, not {backends!r}")
    return memory, cores, devices, list(backends) or None, _number("speed", caps.speed)


class LoadBalancerService:
    """The balancer in this process. ``scheduler`` is any of ``lbsim.SCHEDULERS``;
    ``clock="wall"`` (default) stamps times with the monotonic clock since creation,
    ``clock="manual"`` starts at 0 and moves only with ``advance(seconds)``.
    Thread-safe: every method takes one lock."""

    def __init__(
        self,
        db_path: Optional[str] = None,
        *,
        scheduler: str = "performance_based",
        seed: int = 42,
        clock: str = "wall",
        composite_weights: Optional[str] = None,
        monitoring_interval: float = 10.0,
    ) -> None:
        if db_path is not None:
            raise ValueError("db_path: the in-process balancer keeps no database (lbsim serve --db-path does)")
        if clock not in ("wall", "manual"):
            raise ValueError(f"clock: must be 'wall' or 'manual', not {clock!r}")
        if not isinstance(scheduler, str):
            raise ValueError(f"scheduler: must be a policy name, not {scheduler!r}")
        self._core = _native.Core(scheduler, _count("seed", seed), composite_weights)
        self._lock = threading.RLock()
        self._manual = clock == "manual"
        self._start = time.monotonic()
        self._now = 0.0
        self.monitoring_interval = _number("monitoring_interval", monitoring_interval)
        self.workers: Dict[str, WorkerCapabilities] = {}
        self.worker_loads: Dict[str, WorkerLoad] = {}
        self.worker_status: Dict[str, str] = {}
        self.active_assignments: Dict[str, Dict[str, WorkerAssignment]] = {}
        self.pending_tests: Dict[str, TestRequirements] = {}
        self.test_assignments: Dict[str, WorkerAssignment] = {}
        self._active: Dict[str, WorkerAssignment] = {}
        self._callbacks: List[Callable[[WorkerAssignment], Any]] = []
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    # -- time ---------------------------------------------------------------------

    @property
    def scheduler(self) -> str:
        return self._core.scheduler()

    def now(self) -> float:
        """Seconds on this service's clock."""
        if self._manual:
            return self._now
        return time.monotonic() - self._start

    def advance(self, seconds: float) -> List[WorkerAssignment]:
        """Moves the manual clock forward; ends thermal phases that are due and runs
        a scheduling pass. Returns the assignments it made."""
        if not self._manual:
            raise ValueError("clock: advance() needs LoadBalancerService(clock='manual')")
        seconds = _number("seconds", seconds)
        if seconds < 0:
            raise ValueError("seconds: must not be negative")
        with self._lock:
            self._now += seconds
            return self._apply(self._core.tick(self._now))

    def start(self) -> None:
        """Starts the monitoring thread (wall clock only): every
        ``monitoring_interval`` seconds it ends due thermal phases and runs a pass.
        Scheduling itself happens in every call, so the service works unstarted."""
        if self._manual or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._monitor, name="lbsim-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None

    def _monitor(self) -> None:
        while not self._stop.wait(self.monitoring_interval):
            with self._lock:
                self._apply(self._core.tick(self.now()))

    # -- workers ------------------------------------------------------------------

    def register_worker(self, worker_id: str, capabilities: WorkerCapabilities) -> None:
        """Registers a worker (again, with new capabilities: what it runs finishes
        on the old ones)."""
        _text("worker_id", worker_id)
        memory, cores, devices, backends, speed = _worker_args(capabilities)
        with self._lock:
            made = self._core.register_worker(
                worker_id, memory, cores, devices, backends, speed, self.now()
            )
            self.workers[worker_id] = capabilities
            self.worker_loads.setdefault(worker_id, WorkerLoad(worker_id=worker_id))
            self.active_assignments.setdefault(worker_id, {})
            self.worker_status[worker_id] = "active"
            self._apply(made)

    update_worker_capabilities = register_worker

    def unregister_worker(self, worker_id: str) -> List[str]:
        """The worker is gone: the tests it held go back to pending (the original
        stranded them). Returns their ids."""
        with self._lock:
            requeued, made = self._core.fail_worker(worker_id, self.now())
            self.worker_status[worker_id] = "offline"
            held = self.active_assignments.get(worker_id, {})
            for test_id in requeued:
                a = held.pop(test_id, None)
                self._active.pop(test_id, None)
                self.test_assignments.pop(test_id, None)
                if a is not None and a.test_requirements is not None:
                    self.pending_tests[test_id] = a.test_requirements
            self._apply(made)
            return list(requeued)

    def drain_worker(self, worker_id: str) -> None:
        """lbsim: the worker takes nothing new and finishes what it has."""
        with self._lock:
            made = self._core.drain_worker(worker_id, self.now())
            self.worker_status[worker_id] = self._core.worker_status(worker_id) or "offline"
            self._apply(made)

    def update_worker_load(self, worker_id: str, load: WorkerLoad) -> None:
        with self._lock:
            now = self.now()
            warming = cooling = None
            if load.warming_state:
                warming = now + 30.0 if load.warming_until is None else _number("warming_until", load.warming_until)
            elif load.cooling_state:
                cooling = now + 60.0 if load.cooling_until is None else _number("cooling_until", load.cooling_until)
            made = self._core.update_load(
                worker_id,
                _number("cpu_utilization", load.cpu_utilization),
                _number("memory_utilization", load.memory_utilization),
                _number("gpu_utilization", load.gpu_utilization),
                _number("io_utilization", load.io_utilization),
                _number("network_utilization", load.network_utilization),
                warming,
                cooling,
                now,
            )
            load.last_updated = now
            self.worker_loads[worker_id] = load
            self._apply(made)

    def get_worker_info(self, worker_id: str) -> Dict[str, float]:
        """lbsim: the balancer's view of a worker (effective load, free capacity...)."""
        with self._lock:
            return dict(self._core.worker_info(worker_id))

    # -- tests --------------------------------------------------------------------

    def submit_test(self, requirements: TestRequirements) -> str:
        """Queues a test and runs a scheduling pass; returns its id (a new uuid when
        ``test_id`` is empty)."""
        r = requirements
        test_id = r.test_id
        if type(test_id) is not str:  # noqa: E721 (exact types: the fast path)
            _text("test_id", test_id)
        if not test_id:
            test_id = str(uuid.uuid4())
        backend = r.required_backend
        if r.backend is not None:
            if backend is not None and backend != r.backend:
                raise ValueError("backend: differs from required_backend")
            backend = r.backend
        family = r.model_family if r.model_family is not None else r.model_id
        key = r.concurrency_key
        if not (type(backend) in _OPT_STR and type(family) in _OPT_STR and type(key) in _OPT_STR):
            _text("required_backend", backend)
            _text("model_family", family)
            _text("concurrency_key", key)
        priority = r.priority
        if type(priority) is not int:  # noqa: E721
            raise ValueError(f"priority: must be a whole number 1 to 5, not {priority!r}")
        memory, duration, cores = r.minimum_memory, r.expected_duration, r.cpu_cores
        if not (type(memory) in _NUM and type(duration) in _NUM and type(cores) is int and cores >= 0):
            memory = _number("minimum_memory", memory)
            duration = _number("expected_duration", duration)
            cores = _count("cpu_cores", cores)
        accelerators = r.required_accelerators
        devices = _devices("required_accelerators", accelerators) if accelerators else 0
        with self._lock:
            now = self._now if self._manual else time.monotonic() - self._start
            reason, made = self._core.submit(
                test_id,
                priority if 0 <= priority < 256 else 0,
                memory,
                devices,
                cores,
                backend,
                duration,
                family,
                key,
                now,
            )
            if r.test_id != test_id:
                r.test_id = test_id
            if reason is not None:
                self._reject(test_id, r, reason, now)
            else:
                self.pending_tests[test_id] = r
                if made:
                    self._apply(made, now)
        return test_id

    def _reject(self, test_id: str, r: TestRequirements, reason: str, now: float) -> None:
        a = WorkerAssignment("none", test_id, r, assigned_at=now)
        a.mark_completed(False, {"error": reason}, now)
        self.test_assignments[test_id] = a
        self._fire(a)

    def get_assignments(self, worker_id: Optional[str] = None) -> List[WorkerAssignment]:
        """Assignments not yet final (assigned or running), in assignment order;
        only one worker's with ``worker_id``."""
        with self._lock:
            if worker_id is None:
                return list(self._active.values())
            return list(self.active_assignments.get(worker_id, {}).values())

    get_worker_assignments = get_assignments

    def get_assignment(self, test_id: str) -> Optional[WorkerAssignment]:
        """The test's current or final assignment (``None`` while pending)."""
        with self._lock:
            return self.test_assignments.get(test_id)

    def get_next_assignment(self, worker_id: str) -> Optional[WorkerAssignment]:
        """The worker's first assignment still "assigned" (not started), or ``None``
        (also for an unknown or inactive worker). It is not marked started."""
        with self._lock:
            if self.worker_status.get(worker_id) != "active":
                return None
            for a in self.active_assignments.get(worker_id, {}).values():
                if a.status == "assigned":
                    return a
            return None

    def update_assignment_status(self, test_id: str, status: str, result: Any = None) -> bool:
        """``running`` marks it started; ``completed`` / ``failed`` make it final,
        free its resources, fire the callbacks and run a scheduling pass."""
        if status not in _STATUSES:
            raise ValueError(f"status: must be one of running, completed, failed, not {status!r}")
        with self._lock:
            a = self._active.get(test_id)
            if a is None:
                raise ValueError(f"test_id: no assigned or running test '{test_id}'")
            now = self._now if self._manual else time.monotonic() - self._start
            if status == "running":
                if a.status != "running":
                    a.mark_started(now)
                return True
            made = self._core.finish(test_id, status == "completed", now)
            a.mark_completed(status == "completed", result, now)
            del self._active[test_id]
            self.active_assignments[a.worker_id].pop(test_id, None)
            if self._callbacks:
                self._fire(a)
            if made:
                self._apply(made, now)
            return True

    def register_assignment_callback(self, callback: Callable[[WorkerAssignment], Any]) -> None:
        """``callback(assignment)`` on every completed or failed test (rejections
        too); its exceptions are logged and swallowed, as in the original."""
        self._callbacks.append(callback)

    def pending(self) -> List[str]:
        """lbsim: the pending tests' ids in scheduling order."""
        with self._lock:
            return self._core.pending()

    # -- internals ----------------------------------------------------------------

    def _apply(self, made: List[Tuple[str, str]], now: Optional[float] = None) -> List[WorkerAssignment]:
        if not made:
            return []
        if now is None:
            now = self.now()
        out = []
        pending, tests, active, held_by = self.pending_tests, self.test_assignments, self._active, self.active_assignments
        for test_id, worker_id in made:
            a = WorkerAssignment(worker_id, test_id, pending.pop(test_id, None), now)
            tests[test_id] = a
            active[test_id] = a
            held = held_by.get(worker_id)
            if held is None:
                held = held_by[worker_id] = {}
            held[test_id] = a
            out.append(a)
        return out

    def _fire(self, a: WorkerAssignment) -> None:
        for cb in self._callbacks:
            try:
                cb(a)
            except Exception:  # the original logs and goes on
                import logging

                logging.getLogger("lbsim").exception("assignment callback failed")
