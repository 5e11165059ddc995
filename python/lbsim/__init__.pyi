"""Type stubs of the package's top level (its names load lazily at run time)."""

from typing import Dict, Tuple

from ._client import Client as Client
from ._client import ClientError as ClientError
from ._client import CoordinatorLoadBalancerIntegration as CoordinatorLoadBalancerIntegration
from ._models import TestRequirements as TestRequirements
from ._models import WorkerAssignment as WorkerAssignment
from ._models import WorkerCapabilities as WorkerCapabilities
from ._models import WorkerLoad as WorkerLoad
from ._service import LoadBalancerService as LoadBalancerService
from ._sim import BenchmarkResults as BenchmarkResults
from ._sim import Results as Results
from ._sim import SweepResults as SweepResults
from ._sim import benchmark as benchmark
from ._sim import list_scenarios as list_scenarios
from ._sim import replay as replay
from ._sim import scenario as scenario
from ._sim import spike as spike
from ._sim import stress as stress
from ._sim import sweep as sweep
from ._worker import Worker as Worker

__version__: str
SCHEDULERS: Tuple[str, ...]
SCHEDULER_DESCRIPTIONS: Dict[str, str]
