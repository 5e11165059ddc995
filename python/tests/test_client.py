"""Client, Worker and the integration against a real ``lbsim serve`` on 127.0.0.1."""

import collections
import os
import signal
import subprocess
import threading

import pytest

import lbsim
from lbsim import Client, CoordinatorLoadBalancerIntegration, TestRequirements, Worker


@pytest.fixture()
def server(lbsim_bin, tmp_path):
    """``lbsim serve --port 0`` with a token; yields (url, token); stopped by pid."""
    token = "t0ken"
    proc = subprocess.Popen(
        [lbsim_bin, "serve", "--host", "127.0.0.1", "--port", "0", "--db-path", str(tmp_path / "lb.db"),
         "--token", token, "--heartbeat-timeout", "10"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("lbsim serve: listening on http://127.0.0.1:"), line
        url = line.split()[4]
        yield url, token
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def test_the_reference_verbs_over_http(server):
    url, token = server
    c = Client(url, token)
    w = c.register_worker("w1", memory_gb=16, cpu_cores=2)
    assert isinstance(w, int)
    t = c.submit_test(TestRequirements(test_id="ignored", minimum_memory=1.0, priority=1))
    lease = c.get_next_assignment(w, wait_s=5)
    assert lease["test_id"] == t and lease["requirements"]["priority"] == 1
    assert c.get_assignments(w) == [t]
    reply = c.update_worker_load(w, cpu=30.0, memory=20.0, leases=[lease["lease_id"]])
    assert reply["cancel"] == []
    assert c.update_assignment_status(lease["lease_id"], "running")["state"] == "running"
    done = c.update_assignment_status(lease["lease_id"], "completed", {"acc": 0.9}, run_time_s=1.5)
    assert done["state"] == "completed"
    view = c.get_test(t)
    assert view["result"] == {"acc": 0.9} and view["run_time_s"] == 1.5
    assert c.get_next_assignment(w) is None
    # A report of a lease that is no longer current is refused, naming why.
    with pytest.raises(lbsim.ClientError) as e:
        c.update_assignment_status("L999.1.nope", "completed")
    assert e.value.status in (404, 409)


def test_errors_name_the_field_and_a_missing_token_is_refused(server):
    url, token = server
    with pytest.raises(lbsim.ClientError) as e:
        Client(url, token).submit_test(priority=9)
    assert e.value.status == 400 and e.value.message.startswith("priority")
    with pytest.raises(lbsim.ClientError) as e:
        Client(url).status()
    assert e.value.status == 401


def test_the_integration_checks_the_scheduler_and_submits_tasks(server):
    url, token = server
    integration = CoordinatorLoadBalancerIntegration(
        load_balancer=lbsim.LoadBalancerService(), coordinator_url=url,
        scheduler_type="performance_based", token=token)
    integration.start()
    task = {"priority": 2, "config": {"hardware_requirements": {"minimum_memory": 2.0}}}
    test_id = integration.submit_task(task)
    view = integration.client.get_test(test_id)
    assert view["requirements"]["priority"] == 2 and view["requirements"]["memory_gb"] == 2.0
    integration.stop()
    wrong = CoordinatorLoadBalancerIntegration(coordinator_url=url, scheduler_type="fifo", token=token)
    with pytest.raises(ValueError, match="^scheduler_type"):
        wrong.start()


def test_two_python_workers_serve_100_tests_each_exactly_once(server):
    url, token = server
    seen = collections.Counter()
    lock = threading.Lock()
    workers = [Worker(url, token=token, name=f"py{i}", memory_gb=8, cpu_cores=2, concurrency=2, wait_s=0.5)
               for i in range(2)]
    for w in workers:
        @w.handler
        def run(lease, me=w):
            with lock:
                seen[lease["test_id"]] += 1
            if lease["requirements"]["priority"] == 5:
                raise RuntimeError("flaky model")
            return {"by": me.name}

    client = Client(url, token)
    ids = client.submit_tests([TestRequirements(priority=1 + i % 5, expected_duration=0.01)
                               for i in range(100)])["test_ids"]
    served = {}
    threads = [threading.Thread(target=lambda w=w: served.setdefault(w.name, w.run(idle_timeout=3.0)))
               for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert sorted(seen) == sorted(ids) and set(seen.values()) == {1}
    assert sum(served.values()) == 100 and all(n > 0 for n in served.values())
    tests = client.all_tests()
    states = collections.Counter(t["state"] for t in tests)
    assert states == {"completed": 80, "failed": 20}
    assert all(t["attempts"] == 1 for t in tests)
    assert {t["result"]["by"] for t in tests if t["state"] == "completed"} == {"py0", "py1"}
    assert all(t["result"]["error"] == "RuntimeError: flaky model" for t in tests if t["state"] == "failed")


def test_a_busy_worker_is_handed_each_next_test_by_its_report(server):
    url, token = server
    client = Client(url, token)
    ids = client.submit_tests([TestRequirements(priority=1, expected_duration=0.01)
                               for _ in range(5)])["test_ids"]
    w = Worker(url, token=token, name="chain", memory_gb=8, cpu_cores=1, wait_s=0.5)
    ran = []
    w.handler(lambda lease: ran.append(lease["test_id"]))
    lease_calls = []
    lease_call = w.client.get_next_assignment

    def counted(*args, **kwargs):
        lease_calls.append(1)
        return lease_call(*args, **kwargs)

    w.client.get_next_assignment = counted
    assert w.run(max_tests=5, idle_timeout=10.0) == 5
    assert sorted(ran) == sorted(ids)
    assert all(client.get_test(i)["state"] == "completed" for i in ids)
    # One lease call for the first test; each report's answer handed on the next.
    assert len(lease_calls) == 1
    # A report that asks when nothing waits is handed nothing.
    w2 = client.register_worker("w-next", memory_gb=8, cpu_cores=1)
    t = client.submit_test(priority=1)
    lease = client.get_next_assignment(w2, wait_s=5)
    assert lease["test_id"] == t
    answer = client.update_assignment_status(lease["lease_id"], "completed", run_time_s=0.1,
                                             next_for=w2)
    assert answer["state"] == "completed" and "next" not in answer


def test_a_worker_without_a_handler_or_a_server_says_so():
    w = Worker("http://127.0.0.1:9")
    with pytest.raises(ValueError, match="^handler"):
        w.run()
    w.handler(lambda lease: None)
    with pytest.raises(lbsim.ClientError) as e:
        w.run(idle_timeout=1)
    assert e.value.status is None  # nothing listens there: refused, not a status


def test_cancel_and_log_tail_over_http(server):
    url, token = server
    c = Client(url, token)
    w = c.register_worker("w-log", memory_gb=16, cpu_cores=2)
    ran, waiting = c.submit_tests([{"priority": 1}, {"priority": 5}])["test_ids"]
    lease = c.get_next_assignment(w, wait_s=5)
    assert lease["test_id"] == ran
    c.update_assignment_status(lease["lease_id"], "running")
    c.update_assignment_status(lease["lease_id"], "failed", run_time_s=0.5, exit_code=3,
                               log_tail="step 1\nboom\n")
    assert c.test_log(ran) == "step 1\nboom\n"
    assert c.get_test(ran)["state"] == "failed"
    # A pending test is cancelled at once; a final one cannot be cancelled again.
    assert c.cancel_test(waiting)["state"] == "cancelled"
    assert c.get_test(waiting)["state"] == "cancelled"
    with pytest.raises(lbsim.ClientError) as e:
        c.cancel_test(waiting)
    assert e.value.status == 409
    # No run of the cancelled test sent a log.
    with pytest.raises(lbsim.ClientError) as e:
        c.test_log(waiting)
    assert e.value.status == 404
