"""The original tool's snippet, verbatim but for its import line."""

import contextlib
import io

SEED = '''
from lbsim import LoadBalancerService, WorkerCapabilities, WorkerLoad, TestRequirements
balancer = LoadBalancerService(); balancer.start()
capabilities = WorkerCapabilities(worker_id="worker1",
    hardware_specs={"cpu": {"cores": 8, "frequency_mhz": 3000},
                    "memory": {"total_gb": 16, "available_gb": 14.5},
                    "gpu": {"device_count": 1, "cuda_available": True}},
    available_memory=14.5, cpu_cores=8, available_accelerators={"cuda": 1})
balancer.register_worker("worker1", capabilities)
balancer.update_worker_load("worker1", WorkerLoad(worker_id="worker1",
    cpu_utilization=25.0, memory_utilization=30.0, gpu_utilization=15.0))
for i in range(10):
    balancer.submit_test(TestRequirements(test_id=f"test{i}", model_id="bert-base-uncased",
        minimum_memory=4.0, priority=3, required_accelerators={"cuda": 1} if i % 2 == 0 else {}))
for a in balancer.get_assignments():
    print(f"Test {a.test_id} assigned to {a.worker_id}")
balancer.stop()
'''


def test_the_seed_snippet_runs_and_places_what_fits():
    out = io.StringIO()
    scope = {}
    with contextlib.redirect_stdout(out):
        exec(compile(SEED, "seed", "exec"), scope)
    # 14.5 GB holds three 4 GB tests; the one CUDA device holds one CUDA test.
    assert out.getvalue().splitlines() == [
        "Test test0 assigned to worker1",
        "Test test1 assigned to worker1",
        "Test test3 assigned to worker1",
    ]
    balancer = scope["balancer"]
    assert balancer.pending() == ["test2", "test4", "test5", "test6", "test7", "test8", "test9"]
    # Completing one frees room: the next fitting test in order is placed.
    balancer.update_assignment_status("test1", "completed")
    assert [a.test_id for a in balancer.get_assignments()] == ["test0", "test3", "test5"]
