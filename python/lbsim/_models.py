"""The original tool's data classes, with every field it had, plus lbsim's.

Times are seconds on the owning service's clock (``LoadBalancerService.now()``),
not datetimes: the same script gives the same numbers on the manual clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set

__all__ = [
    "WorkerCapabilities",
    "WorkerLoad",
    "TestRequirements",
    "WorkerAssignment",
]


@dataclass
class WorkerCapabilities:
    """What a worker offers. lbsim uses ``available_memory`` (GB, falling back to
    ``hardware_specs["memory"]["available_gb"]``), ``cpu_cores`` (falling back to
    ``hardware_specs["cpu"]["cores"]``, then 1), ``available_accelerators`` ("cuda" or
    "gpu" devices) and ``supported_backends`` (cpu, cuda, rocm; default cpu, plus cuda
    with devices); the other fields are kept as given."""

    worker_id: str
    hostname: str = ""
    hardware_specs: Dict[str, Any] = field(default_factory=dict)
    software_versions: Dict[str, str] = field(default_factory=dict)
    supported_backends: List[str] = field(default_factory=list)
    browser_support: List[str] = field(default_factory=list)
    has_gpu: bool = False
    has_webgpu: bool = False
    has_webnn: bool = False
    network_bandwidth: float = 0.0
    storage_capacity: float = 0.0
    available_accelerators: Dict[str, int] = field(default_factory=dict)
    available_memory: float = 0.0
    available_disk: float = 0.0
    cpu_cores: int = 0
    cpu_threads: int = 0
    last_updated: Optional[float] = None
    #: lbsim: relative speed (a test runs ``expected_duration / speed``).
    speed: float = 1.0


@dataclass
class WorkerLoad:
    """A worker's measured load, percent (0–100). lbsim books the resources of the
    tests it assigns itself, so ``reserved_*``, ``active_tests`` and
    ``active_test_ids`` are informational; the utilisations the booked tests do not
    explain become the balancer's drift. ``warming_state`` / ``cooling_state`` start a
    thermal phase (until ``warming_until`` / ``cooling_until``, service seconds;
    default 30 s / 60 s from now)."""

    worker_id: str
    active_tests: int = 0
    queued_tests: int = 0
    cpu_utilization: float = 0.0
    memory_utilization: float = 0.0
    gpu_utilization: float = 0.0
    io_utilization: float = 0.0
    network_utilization: float = 0.0
    queue_depth: int = 0
    last_updated: Optional[float] = None
    active_test_ids: Set[str] = field(default_factory=set)
    reserved_memory: float = 0.0
    reserved_accelerators: Dict[str, int] = field(default_factory=dict)
    warming_state: bool = False
    cooling_state: bool = False
    warming_until: Optional[float] = None
    cooling_until: Optional[float] = None
    performance_level: float = 1.0

    def calculate_load_score(self) -> float:
        """The reference's weighted score, 0–1."""
        score = (
            0.3 * self.cpu_utilization
            + 0.3 * self.memory_utilization
            + 0.2 * self.gpu_utilization
            + 0.1 * self.io_utilization
            + 0.1 * self.network_utilization
        ) / 100.0
        return min(1.0, max(0.0, score))

    def get_effective_load_score(self) -> float:
        """The load score plus ``1 - performance_level`` while warming or cooling."""
        score = self.calculate_load_score()
        if self.warming_state or self.cooling_state:
            return min(1.0, score + (1.0 - self.performance_level))
        return score


@dataclass
class TestRequirements:
    """What a test needs. lbsim uses ``minimum_memory`` (GB), ``priority`` (1 most
    urgent to 5), ``required_accelerators`` ("cuda"/"gpu" devices),
    ``required_backend`` (or lbsim's ``backend``), ``expected_duration`` (s),
    ``concurrency_key``, ``model_family`` (else ``model_id``, for affinity) and
    lbsim's ``cpu_cores``. The reference never used ``preferred_backend``,
    ``timeout``, ``retries`` or the limits; lbsim keeps them as given, and
    ``required_software`` too (it models no software versions)."""

    __test__ = False  # not a pytest class

    test_id: str = ""
    model_id: Optional[str] = None
    model_family: Optional[str] = None
    test_type: Optional[str] = None
    minimum_memory: float = 0.5
    required_memory_limit: float = 1000.0
    preferred_backend: Optional[str] = None
    required_backend: Optional[str] = None
    expected_duration: float = 60.0
    priority: int = 3
    required_accelerators: Dict[str, int] = field(default_factory=dict)
    required_accelerator_limit: Dict[str, int] = field(default_factory=dict)
    required_software: Dict[str, str] = field(default_factory=dict)
    timeout: float = 3600.0
    retries: int = 3
    concurrency_key: Optional[str] = None
    #: lbsim: CPU cores the test keeps busy.
    cpu_cores: int = 1
    #: lbsim: the backend it must run on (same as ``required_backend``).
    backend: Optional[str] = None

    def __post_init__(self) -> None:
        for kind, count in self.required_accelerators.items():
            self.required_accelerator_limit.setdefault(kind, count)


@dataclass
class WorkerAssignment:
    """A test on a worker: ``status`` is assigned, running, completed or failed."""

    worker_id: str
    test_id: str
    test_requirements: Optional[TestRequirements] = None
    assigned_at: float = 0.0
    started_at: Optional[float] = None
    completed_at: Optional[float] = None
    status: str = "assigned"
    result: Any = None
    execution_time: float = 0.0
    success: bool = False

    def mark_started(self, now: float) -> None:
        self.started_at = now
        self.status = "running"

    def mark_completed(self, success: bool, result: Any, now: float) -> None:
        self.completed_at = now
        self.status = "completed" if success else "failed"
        self.success = success
        self.result = result
        if self.started_at is not None:
            self.execution_time = now - self.started_at
