"""Long runs release the GIL and stop on Ctrl-C with KeyboardInterrupt."""

import signal
import subprocess
import sys
import threading
import time

import lbsim

LONG = "lbsim.spike(workers=1000, tests=3_000_000, duration=3600, keep_rows=False)"


def test_ctrl_c_stops_a_long_run_with_keyboard_interrupt():
    code = f"import lbsim, sys\nprint('started', flush=True)\n{LONG}\nprint('finished')\n"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "started"
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)  # a liveness bound, not a timing
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "finished" not in out
    assert "KeyboardInterrupt" in err and proc.returncode != 0


def test_a_run_in_a_thread_lets_the_interpreter_go_on():
    done = threading.Event()
    box = {}

    def go():
        box["r"] = lbsim.spike(workers=500, tests=300_000, duration=600, keep_rows=False)
        done.set()

    t = threading.Thread(target=go)
    t.start()
    ticks = 0
    while not done.is_set():
        ticks += 1  # runs only while the simulation does not hold the GIL
        time.sleep(0.001)
    t.join()
    assert box["r"].metrics["total_tests"] == 300_000
    assert ticks > 20
