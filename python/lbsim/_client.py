"""``Client``: the original tool's verbs over ``lbsim serve``'s HTTP API (``/v1``), and
``CoordinatorLoadBalancerIntegration`` in the shape the original documented. Plain
``urllib``: nothing to install."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any, Dict, List, Mapping, Optional, Union

from ._models import TestRequirements, WorkerCapabilities, WorkerLoad

__all__ = ["Client", "ClientError", "CoordinatorLoadBalancerIntegration"]

#: How long a run's report is retried while the server is unreachable (a restart).
REPORT_RETRY_S = 120.0


class ClientError(Exception):
    """A call failed: ``status`` is the HTTP status (``None`` when the server could not
    be reached); the message is the server's one line naming the field."""

    def __init__(self, url: str, status: Optional[int], message: str) -> None:
        super().__init__(f"{url}: {status}: {message}" if status else f"{url}: {message}")
        self.url = url
        self.status = status
        self.message = message


def _cuda(accelerators: Mapping[str, int]) -> int:
    return sum(n for kind, n in accelerators.items() if kind in ("cuda", "gpu"))


def test_request(r: Union[TestRequirements, Mapping[str, Any]]) -> Dict[str, Any]:
    """The ``POST /v1/tests`` body of a ``TestRequirements`` (a dict passes as is)."""
    if isinstance(r, Mapping):
        return dict(r)
    body: Dict[str, Any] = {
        "memory_gb": r.minimum_memory,
        "cuda_devices": _cuda(r.required_accelerators),
        "cpu_cores": r.cpu_cores,
        "priority": r.priority,
        "expected_duration_s": r.expected_duration,
    }
    optional = {
        "backend": r.required_backend or r.backend,
        "concurrency_key": r.concurrency_key,
        "test_type": r.test_type,
        "model_family": r.model_family or r.model_id,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    return body


test_request.__test__ = False  # type: ignore[attr-defined]


class Client:
    """A client of one coordinator: ``url`` is its base (``http://HOST:PORT``),
    ``token`` its bearer token (``lbsim serve --token``)."""

    def __init__(self, url: str, token: Optional[str] = None, timeout: float = 90.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _call(
        self, method: str, path: str, body: Any = None, timeout: Optional[float] = None, text: bool = False
    ) -> Any:
        """One request; the JSON answer (``text``: the body as a string)."""
        url = self.url + path
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout) as resp:
                if resp.status == 204:
                    return None
                if text:
                    return resp.read().decode("utf-8", "replace")
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            try:
                message = json.loads(text)["error"]
            except (ValueError, KeyError, TypeError):
                message = text.strip()
            raise ClientError(url, e.code, message) from None
        except (urllib.error.URLError, OSError) as e:
            raise ClientError(url, None, str(getattr(e, "reason", e))) from None

    # -- workers ------------------------------------------------------------------

    def register_worker(
        self,
        worker_id: Optional[str] = None,
        capabilities: Optional[WorkerCapabilities] = None,
        *,
        memory_gb: Optional[float] = None,
        cpu_cores: Optional[int] = None,
        cuda_devices: Optional[int] = None,
        backends: Optional[List[str]] = None,
    ) -> int:
        """Registers a worker named ``worker_id``; returns the server's worker id.
        ``memory_gb`` is installed memory (tests may use 90 %); from ``capabilities``
        it is ``hardware_specs["memory"]["total_gb"]``, else ``available_memory / 0.9``."""
        body: Dict[str, Any] = {}
        if capabilities is not None:
            total = (capabilities.hardware_specs.get("memory") or {}).get("total_gb")
            body["memory_gb"] = total or capabilities.available_memory / 0.9
            body["cpu_cores"] = capabilities.cpu_cores or 1
            body["cuda_devices"] = _cuda(capabilities.available_accelerators)
            if capabilities.supported_backends:
                body["backends"] = list(capabilities.supported_backends)
        given = {"memory_gb": memory_gb, "cpu_cores": cpu_cores, "cuda_devices": cuda_devices,
                 "backends": backends, "name": worker_id}
        body.update({k: v for k, v in given.items() if v is not None})
        body.setdefault("memory_gb", 8.0)
        return self._call("POST", "/v1/workers", body)["worker_id"]

    def update_worker_load(
        self,
        worker_id: int,
        load: Optional[WorkerLoad] = None,
        *,
        cpu: float = 0.0,
        memory: float = 0.0,
        gpu: float = 0.0,
        leases: Optional[List[str]] = None,
    ) -> Dict[str, Any]:
        """A heartbeat with the measured load (percent); ``leases`` lists every lease
        the worker holds, so the server can reconcile them. The answer has
        ``next_heartbeat_s`` and the leases to ``cancel``."""
        if load is not None:
            cpu, memory, gpu = load.cpu_utilization, load.memory_utilization, load.gpu_utilization
        body: Dict[str, Any] = {"cpu": cpu, "memory": memory, "gpu": gpu}
        if leases is not None:
            body["leases"] = list(leases)
        return self._call("POST", f"/v1/workers/{worker_id}/heartbeat", body)

    def drain_worker(self, worker_id: int) -> Any:
        return self._call("POST", f"/v1/workers/{worker_id}/drain", {})

    def unregister_worker(self, worker_id: int) -> Any:
        """Leaves at once; the worker's runs are requeued."""
        return self._call("DELETE", f"/v1/workers/{worker_id}")

    def get_worker(self, worker_id: int) -> Dict[str, Any]:
        return self._call("GET", f"/v1/workers/{worker_id}")

    def list_workers(self) -> List[Dict[str, Any]]:
        return self._call("GET", "/v1/workers")["workers"]

    # -- tests --------------------------------------------------------------------

    def submit_test(self, requirements: Union[TestRequirements, Mapping[str, Any], None] = None, **fields: Any) -> int:
        """Submits one test (a ``TestRequirements``, or the API's fields); returns its id."""
        body = test_request(requirements) if requirements is not None else {}
        body.update(fields)
        return self._call("POST", "/v1/tests", body)["test_ids"][0]

    def submit_tests(self, tests: List[Union[TestRequirements, Mapping[str, Any]]]) -> Dict[str, Any]:
        """Submits a batch: ``{"test_ids": [...], "rejected": [...]}``."""
        return self._call("POST", "/v1/tests", {"tests": [test_request(t) for t in tests]})

    def get_test(self, test_id: int) -> Dict[str, Any]:
        return self._call("GET", f"/v1/tests/{test_id}")

    def cancel_test(self, test_id: int) -> Dict[str, Any]:
        """Cancels a test: a pending one at once, a running one when its worker learns
        it (its next heartbeat or lease call). Returns the test's view; a final test is
        refused with 409."""
        return self._call("POST", f"/v1/tests/{test_id}/cancel", {})

    def test_log(self, test_id: int) -> str:
        """The last 64 KiB of the log of the test's last reported run (an
        ``lbsim worker --exec`` agent sends it); 404 when no run sent one."""
        return self._call("GET", f"/v1/tests/{test_id}/log", text=True)

    def list_tests(self, state: Optional[str] = None, after: int = 0, limit: int = 10_000) -> Dict[str, Any]:
        query = f"?after={after}&limit={limit}" + (f"&state={state}" if state else "")
        return self._call("GET", "/v1/tests" + query)

    def all_tests(self) -> List[Dict[str, Any]]:
        """Every test, page by page."""
        out: List[Dict[str, Any]] = []
        after: Optional[int] = 0
        while after is not None:
            page = self.list_tests(after=after)
            out.extend(page["tests"])
            after = page["next_after"]
        return out

    def status(self) -> Dict[str, Any]:
        return self._call("GET", "/v1/status")

    # -- assignments --------------------------------------------------------------

    def get_assignments(self, worker_id: int) -> List[int]:
        """The tests assigned to or running on the worker."""
        return self.get_worker(worker_id)["tests"]

    def get_next_assignment(self, worker_id: int, wait_s: float = 0.0) -> Optional[Dict[str, Any]]:
        """The worker's next lease (``lease_id``, ``test_id``, ``attempt``,
        ``requirements``, ``expires_at``), waiting up to ``wait_s`` (at most 30);
        ``None`` when there is none."""
        return self._call("POST", f"/v1/workers/{worker_id}/lease?wait_s={wait_s}",
                          timeout=self.timeout + wait_s)

    def update_assignment_status(
        self,
        lease_id: str,
        status: str,
        result: Optional[Mapping[str, Any]] = None,
        run_time_s: float = 0.0,
        *,
        exit_code: Optional[int] = None,
        log_tail: Optional[str] = None,
        next_for: Optional[int] = None,
    ) -> Dict[str, Any]:
        """``running`` (the run started), ``completed`` or ``failed`` (with how long it
        ran, an optional JSON object, and optionally the command's exit code and the
        last 64 KiB of its output, which ``test_log`` then returns). With ``next_for`` (the
        worker's id) the answer's ``next`` is that worker's next lease, when one is waiting:
        one call per test instead of two. Reports are idempotent per lease, so one
        the server may have missed is sent again for up to two minutes; a 409 (the
        lease is no longer current) is final."""
        if status == "running":
            path, body = f"/v1/leases/{lease_id}/start", {}
        elif status in ("completed", "failed"):
            path = f"/v1/leases/{lease_id}/complete"
            body = {"success": status == "completed", "run_time_s": float(run_time_s)}
            if result is not None:
                body["result"] = dict(result)
            if exit_code is not None:
                body["exit_code"] = int(exit_code)
            if log_tail is not None:
                body["log_tail"] = str(log_tail)
            if next_for is not None:
                body["worker_id"], body["next"] = int(next_for), True
        else:
            raise ValueError(f"status: must be running, completed or failed, not {status!r}")
        pause, waited = 0.05, 0.0
        while True:
            try:
                return self._call("POST", path, body)
            except ClientError as e:
                transient = e.status is None or e.status == 503
                if not transient or waited >= REPORT_RETRY_S:
                    raise
                time.sleep(pause)
                waited += pause
                pause = min(pause * 2, 2.0)


class CoordinatorLoadBalancerIntegration:
    """The original's integration object. With lbsim the coordinator (``lbsim serve``)
    runs the balancer itself, so this is a client: ``start()`` checks the coordinator
    answers and runs ``scheduler_type`` (``lbsim serve --scheduler``), and
    ``submit_task`` submits to it. A local ``load_balancer`` is kept as given."""

    def __init__(
        self,
        load_balancer: Any = None,
        coordinator_url: str = "http://127.0.0.1:8080",
        scheduler_type: str = "performance_based",
        token: Optional[str] = None,
    ) -> None:
        self.load_balancer = load_balancer
        self.coordinator_url = coordinator_url
        self.scheduler_type = scheduler_type
        self.client = Client(coordinator_url, token)
        self.started = False

    def start(self) -> None:
        running = self.client.status().get("scheduler")
        if running != self.scheduler_type:
            raise ValueError(
                f"scheduler_type: the coordinator at {self.coordinator_url} runs {running!r}; "
                f"start it with lbsim serve --scheduler {self.scheduler_type}"
            )
        self.started = True

    def submit_task(self, task_data: Union[TestRequirements, Mapping[str, Any]]) -> int:
        """Submits a task: a ``TestRequirements``, the API's test fields, or the
        original's task dict (``priority`` plus ``config.hardware_requirements``)."""
        if not self.started:
            raise RuntimeError("call start() first")
        if isinstance(task_data, Mapping) and "config" in task_data:
            hw = dict((task_data.get("config") or {}).get("hardware_requirements") or {})
            fields = {k: v for k, v in hw.items() if k in TestRequirements.__dataclass_fields__}
            if "priority" in task_data:
                fields["priority"] = task_data["priority"]
            task_data = TestRequirements(**fields)
        return self.client.submit_test(task_data)

    def stop(self) -> None:
        self.started = False
