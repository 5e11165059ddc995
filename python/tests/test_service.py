"""LoadBalancerService: policies, the manual clock, the lifecycle verbs, bad input."""

import threading

import pytest

import lbsim
from lbsim import LoadBalancerService, TestRequirements, WorkerCapabilities, WorkerLoad


def pool(service, n=3, memory=16.0, cores=4, cuda=0):
    for i in range(n):
        caps = WorkerCapabilities(
            worker_id=f"w{i}", available_memory=memory, cpu_cores=cores,
            available_accelerators={"cuda": cuda} if cuda else {},
        )
        service.register_worker(f"w{i}", caps)


def test_there_are_twelve_policies_with_descriptions():
    assert len(lbsim.SCHEDULERS) == 13
    assert lbsim.SCHEDULERS[0] == "performance_based"
    assert set(lbsim.SCHEDULER_DESCRIPTIONS) == set(lbsim.SCHEDULERS)


@pytest.mark.parametrize("name", lbsim.SCHEDULERS)
def test_every_policy_by_name_places_and_completes_every_test(name):
    s = LoadBalancerService(scheduler=name, clock="manual")
    assert s.scheduler == name
    pool(s)
    for i in range(30):
        s.submit_test(TestRequirements(test_id=f"t{i}", priority=1 + i % 5, model_family=f"m{i % 3}"))
    done = set()
    while len(done) < 30:
        active = s.get_assignments()
        assert active, f"{name}: tests left pending with free workers"
        s.advance(1.0)
        for a in active:
            assert a.worker_id in ("w0", "w1", "w2")
            s.update_assignment_status(a.test_id, "completed", {"ok": True})
            done.add(a.test_id)
    assert s.pending() == [] and s.get_assignments() == []
    assert all(s.get_assignment(f"t{i}").status == "completed" for i in range(30))


def test_an_unknown_scheduler_is_refused_naming_the_field():
    with pytest.raises(ValueError, match="^scheduler: unknown scheduler 'fastest'"):
        LoadBalancerService(scheduler="fastest")


def test_the_manual_clock_stamps_every_time_and_moves_only_on_advance():
    s = LoadBalancerService(clock="manual")
    pool(s, n=1)
    s.advance(5.0)
    s.submit_test(TestRequirements(test_id="a", expected_duration=3.0))
    a = s.get_next_assignment("w0")
    assert (a.test_id, a.status, a.assigned_at, a.started_at) == ("a", "assigned", 5.0, None)
    s.advance(1.5)
    s.update_assignment_status("a", "running")
    assert (a.status, a.started_at) == ("running", 6.5)
    assert s.get_next_assignment("w0") is None  # started: no longer "next"
    s.advance(2.0)
    s.update_assignment_status("a", "failed", {"error": "boom"})
    assert (a.status, a.completed_at, a.execution_time, a.success) == ("failed", 8.5, 2.0, False)
    assert a.result == {"error": "boom"}
    assert s.now() == 8.5
    with pytest.raises(ValueError, match="^clock:"):
        LoadBalancerService().advance(1.0)


def test_two_identical_manual_scripts_decide_the_same():
    def script():
        s = LoadBalancerService(scheduler="random", clock="manual", seed=7)
        pool(s, n=5)
        out = []
        for i in range(50):
            s.submit_test(TestRequirements(test_id=f"t{i}", minimum_memory=3.0))
            s.advance(0.1)
            if i % 3 == 0:
                for a in s.get_assignments()[:2]:
                    s.update_assignment_status(a.test_id, "completed")
        return [(a.test_id, a.worker_id, a.assigned_at) for a in s.test_assignments.values()]

    assert script() == script()


def test_a_warming_worker_is_avoided_until_its_phase_ends():
    s = LoadBalancerService(scheduler="least_loaded", clock="manual")
    pool(s, n=2)
    s.update_worker_load("w0", WorkerLoad(worker_id="w0", warming_state=True, warming_until=30.0))
    assert s.get_worker_info("w0")["performance_level"] < 1.0
    s.submit_test(TestRequirements(test_id="a"))
    assert s.get_assignment("a").worker_id == "w1"
    s.advance(31.0)
    assert s.get_worker_info("w0")["performance_level"] == 1.0


def test_a_test_no_worker_can_hold_fails_at_once_with_worker_none():
    s = LoadBalancerService(clock="manual")
    seen = []
    s.register_assignment_callback(seen.append)
    pool(s, n=1, memory=8.0)
    s.submit_test(TestRequirements(test_id="huge", minimum_memory=64.0))
    a = s.get_assignment("huge")
    assert (a.worker_id, a.status) == ("none", "failed")
    assert "no worker could ever hold it" in a.result["error"]
    assert seen == [a]


def test_tests_submitted_before_any_worker_wait_for_one():
    s = LoadBalancerService(clock="manual")
    test_id = s.submit_test(TestRequirements(minimum_memory=2.0))
    assert len(test_id) == 36  # a uuid, as the original generated
    assert s.pending() == [test_id]
    pool(s, n=1)
    assert [a.test_id for a in s.get_assignments()] == [test_id]


def test_unregistering_a_worker_requeues_its_tests_elsewhere():
    s = LoadBalancerService(scheduler="fifo", clock="manual")
    pool(s, n=2)
    s.submit_test(TestRequirements(test_id="a"))
    assert s.get_assignment("a").worker_id == "w0"
    assert s.unregister_worker("w0") == ["a"]
    assert s.get_assignment("a").worker_id == "w1"
    assert s.get_next_assignment("w0") is None


def test_a_concurrency_key_runs_one_test_at_a_time():
    s = LoadBalancerService(clock="manual")
    pool(s, n=2)
    for t in ("a", "b"):
        s.submit_test(TestRequirements(test_id=t, concurrency_key="db"))
    assert [a.test_id for a in s.get_assignments()] == ["a"]
    s.update_assignment_status("a", "completed")
    assert [a.test_id for a in s.get_assignments()] == ["b"]


def test_lbsim_fields_cores_backend_and_cuda_decide_the_fit():
    s = LoadBalancerService(clock="manual")
    s.register_worker("gpu", WorkerCapabilities("gpu", available_memory=32, cpu_cores=2,
                                                available_accelerators={"gpu": 2}))
    s.register_worker("cpu", WorkerCapabilities("cpu", available_memory=32, cpu_cores=16))
    s.submit_test(TestRequirements(test_id="c", required_accelerators={"cuda": 1}))
    s.submit_test(TestRequirements(test_id="k", cpu_cores=8))
    s.submit_test(TestRequirements(test_id="b", backend="cuda"))
    placed = {a.test_id: a.worker_id for a in s.get_assignments()}
    assert placed == {"c": "gpu", "k": "cpu", "b": "gpu"}


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda s: s.submit_test(TestRequirements(test_id="x", priority=9)), "priority"),
        (lambda s: s.submit_test(TestRequirements(test_id="x", priority="high")), "priority"),
        (lambda s: s.submit_test(TestRequirements(test_id="x", minimum_memory=-1)), "minimum_memory"),
        (lambda s: s.submit_test(TestRequirements(test_id="x", minimum_memory="4")), "minimum_memory"),
        (lambda s: s.submit_test(TestRequirements(test_id="x", expected_duration=0)), "expected_duration"),
        (lambda s: s.submit_test(TestRequirements(test_id="x", required_backend="tpu")), "required_backend"),
        (lambda s: s.submit_test(TestRequirements(test_id="x", required_accelerators={"tpu": 1})),
         "required_accelerators"),
        (lambda s: s.register_worker("v", WorkerCapabilities("v")), "available_memory"),
        (lambda s: s.register_worker("v", WorkerCapabilities("v", available_memory=8,
                                                            supported_backends=["webgpu"])),
         "supported_backends"),
        (lambda s: s.update_worker_load("w0", WorkerLoad("w0", cpu_utilization=120)), "cpu_utilization"),
        (lambda s: s.update_worker_load("nobody", WorkerLoad("nobody")), "worker_id"),
        (lambda s: s.update_assignment_status("nothing", "completed"), "test_id"),
        (lambda s: s.update_assignment_status("t", "done"), "status"),
        (lambda s: LoadBalancerService(clock="sundial"), "clock"),
    ],
)
def test_bad_input_raises_value_error_naming_the_field(make, field):
    s = LoadBalancerService(clock="manual")
    pool(s, n=1)
    with pytest.raises(ValueError, match=f"^{field}"):
        make(s)


def test_a_duplicate_live_test_id_is_refused():
    s = LoadBalancerService(clock="manual")
    s.submit_test(TestRequirements(test_id="x"))
    with pytest.raises(ValueError, match="^test_id: 'x' is already submitted"):
        s.submit_test(TestRequirements(test_id="x"))


def test_the_service_is_safe_to_share_between_threads():
    s = LoadBalancerService(clock="manual")
    pool(s, n=4, cores=64, memory=256.0)

    def submit(k):
        for i in range(200):
            s.submit_test(TestRequirements(test_id=f"{k}-{i}", minimum_memory=0.1))

    threads = [threading.Thread(target=submit, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(s.test_assignments) + len(s.pending()) == 800
