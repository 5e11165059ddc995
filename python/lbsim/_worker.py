"""``Worker``: a Python process that serves tests from ``lbsim serve`` itself (it keeps
its models loaded). ``@worker.handler`` receives each lease; returning finishes the test
as completed (a dict is kept as its result), raising as failed. Heartbeats with the
measured load, listing the leases held, go from a background thread."""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Callable, Dict, Optional, Set

from ._client import Client, ClientError

__all__ = ["Worker"]

Handler = Callable[[Dict[str, Any]], Any]


def measured_load() -> Dict[str, float]:
    """This machine's CPU (1-minute load average per core) and memory use, percent;
    zeros where the platform does not say."""
    cpu = mem = 0.0
    try:
        cpu = min(100.0, 100.0 * os.getloadavg()[0] / (os.cpu_count() or 1))
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/meminfo") as f:
            info = {line.split(":")[0]: float(line.split()[1]) for line in f if ":" in line}
        mem = min(100.0, max(0.0, 100.0 * (1 - info["MemAvailable"] / info["MemTotal"])))
    except (OSError, KeyError, ValueError, IndexError, ZeroDivisionError):
        pass
    return {"cpu": cpu, "memory": mem, "gpu": 0.0}


class Worker:
    """Registers with the coordinator at ``url`` offering ``memory_gb`` (installed),
    ``cpu_cores``, ``cuda_devices`` and ``backends``; ``concurrency`` tests at once."""

    def __init__(
        self,
        url: str,
        *,
        token: Optional[str] = None,
        name: Optional[str] = None,
        memory_gb: float = 8.0,
        cpu_cores: int = 1,
        cuda_devices: int = 0,
        backends: Optional[list] = None,
        concurrency: int = 1,
        wait_s: float = 2.0,
        load: Callable[[], Dict[str, float]] = measured_load,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency: must be at least 1")
        self.client = Client(url, token)
        self.name = name
        self.capacity = dict(memory_gb=memory_gb, cpu_cores=cpu_cores,
                             cuda_devices=cuda_devices, backends=backends)
        self.concurrency = concurrency
        self.wait_s = wait_s
        self.load = load
        self.worker_id: Optional[int] = None
        self.served = 0
        self._handler: Optional[Handler] = None
        self._held: Set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._interval = 1.0  # the first beat soon; then the server sets the pace
        self._error: Optional[BaseException] = None

    def handler(self, fn: Handler) -> Handler:
        """Decorator: ``fn(lease)`` runs each test (``lease["requirements"]`` says
        what it needs)."""
        self._handler = fn
        return fn

    def stop(self) -> None:
        """Stops after the tests in hand (from a handler or another thread)."""
        self._stop.set()

    def run(self, *, max_tests: Optional[int] = None, idle_timeout: Optional[float] = None) -> int:
        """Registers, serves tests until ``stop()``, ``max_tests`` served, or no work
        for ``idle_timeout`` seconds, then leaves; returns how many it served."""
        if self._handler is None:
            raise ValueError("handler: decorate a function with @worker.handler first")
        self.worker_id = self.client.register_worker(self.name, **self.capacity)
        beat = threading.Thread(target=self._heartbeats, name="lbsim-heartbeat", daemon=True)
        beat.start()
        self._last_work = time.monotonic()
        loops = [threading.Thread(target=self._loop, args=(max_tests, idle_timeout), daemon=True)
                 for _ in range(self.concurrency)]
        try:
            for t in loops:
                t.start()
            for t in loops:
                while t.is_alive():
                    t.join(0.2)
        finally:
            self._stop.set()
            beat.join(timeout=5.0)
            try:
                self.client.unregister_worker(self.worker_id)
            except ClientError:
                pass
        if self._error is not None:
            raise self._error
        return self.served

    def _loop(self, max_tests: Optional[int], idle_timeout: Optional[float]) -> None:
        """One serving thread; its first unexpected error stops the worker and is
        raised by ``run()``."""
        try:
            self._serve(max_tests, idle_timeout)
        except BaseException as e:  # raised again by run(), on the caller's thread
            with self._lock:
                if self._error is None:
                    self._error = e
            self._stop.set()

    def _heartbeats(self) -> None:
        while not self._stop.wait(self._interval):
            with self._lock:
                held = sorted(self._held)
            try:
                reply = self.client.update_worker_load(self.worker_id, leases=held, **self.load())
                self._interval = max(0.05, float(reply.get("next_heartbeat_s", 5.0)))
            except ClientError:
                self._interval = 1.0

    def _take(self, max_tests: Optional[int]) -> bool:
        with self._lock:
            if max_tests is not None and self.served >= max_tests:
                return False
            return True

    def _hold(self, lease: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        """The lease, now held; ``None`` if there is none or it is held already (handed
        out again after a server restart: it runs once)."""
        if lease is None:
            return None
        with self._lock:
            if lease["lease_id"] in self._held:
                return None
            self._held.add(lease["lease_id"])
        return lease

    def _lease(self) -> Optional[Dict[str, Any]]:
        try:
            return self._hold(self.client.get_next_assignment(self.worker_id, wait_s=self.wait_s))
        except ClientError as e:
            if e.status is not None and e.status != 503:
                raise
            time.sleep(1.0)  # unreachable or busy (a restart): try again
            return None

    def _wants_more(self, max_tests: Optional[int]) -> bool:
        """Whether a report should ask for the next lease (not when stopping, nor for
        the run that reaches ``max_tests``)."""
        with self._lock:
            last = max_tests is not None and self.served + 1 >= max_tests
        return not self._stop.is_set() and not last

    def _serve(self, max_tests: Optional[int], idle_timeout: Optional[float]) -> None:
        lease = None  # held: handed on by the last report's answer
        while not self._stop.is_set() and self._take(max_tests):
            if lease is None:
                lease = self._lease()
            if lease is None:
                if idle_timeout is not None and time.monotonic() - self._last_work > idle_timeout:
                    return
                continue
            lease_id = lease["lease_id"]
            try:
                lease = self._run_one(lease, self._wants_more(max_tests))
            finally:
                with self._lock:
                    self._held.discard(lease_id)
                    self.served += 1
                self._last_work = time.monotonic()
            if max_tests is not None and self.served >= max_tests:
                self._stop.set()

    def _run_one(self, lease: Dict[str, Any], ask_next: bool) -> Optional[Dict[str, Any]]:
        """Runs and reports one lease; the next one the report's answer handed on (held),
        if it asked and one was waiting."""
        lease_id = lease["lease_id"]
        try:
            self.client.update_assignment_status(lease_id, "running")
        except ClientError as e:
            if e.status == 409:
                return None  # no longer ours
            raise
        started = time.monotonic()
        try:
            out = self._handler(lease)  # type: ignore[misc]
            ok, result = True, out if isinstance(out, dict) else ({"value": out} if out is not None else None)
        except Exception as e:  # the test failed, not the worker
            ok, result = False, {"error": f"{type(e).__name__}: {e}"}
        run_time = time.monotonic() - started
        try:
            answer = self.client.update_assignment_status(
                lease_id, "completed" if ok else "failed", result, run_time_s=run_time,
                next_for=self.worker_id if ask_next else None,
            )
        except ClientError as e:
            if e.status != 409:
                raise
            return None
        return self._hold(answer.get("next"))
