#!/usr/bin/env python3
"""A large JUnit suite for `lbsim replay` and `lbsim plan`: pytest-shaped,
deterministic (seeded), with the long-tailed run times real suites have.

usage: junit_suite.py TESTS SEED > suite.xml
(tests/fixtures/junit/large-5000.xml is `junit_suite.py 5000 28`.)

Run times are lognormal (median 0.4 s) with 1 % slow integration tests of
30 to 300 s; 2 % fail, 0.5 % error, 3 % are skipped. Tests live in 250
modules of up to 40 classes' worth of tests, named like a Python project.
"""
import random
import sys
from xml.sax.saxutils import quoteattr

tests, seed = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)
areas = ["api", "billing", "catalog", "search", "store", "auth", "reports", "sync", "ui", "jobs"]
cases, total = [], 0.0
counts = {"skipped": 0, "failures": 0, "errors": 0}
for k in range(tests):
    module = f"tests.{areas[k % len(areas)]}.test_{(k // 20) % 250:03d}"
    classname = module if k % 3 else f"{module}.TestCase{(k // 7) % 5}"
    name = f"test_{rng.choice(['create', 'update', 'list', 'delete', 'render', 'retry'])}_{k:05d}"
    if rng.random() < 0.01:
        time_s = rng.uniform(30, 300)
    else:
        time_s = min(rng.lognormvariate(-0.9, 1.1), 60.0)
    roll = rng.random()
    body = ""
    if roll < 0.03:
        body = '<skipped type="pytest.skip" message="needs a staging database" />'
        time_s = 0.0
        counts["skipped"] += 1
    elif roll < 0.05:
        body = f'<failure message="assert 200 == 500">tests/{k}.py:12: AssertionError</failure>'
        counts["failures"] += 1
    elif roll < 0.055:
        body = '<error message="failed on setup with &quot;TimeoutError&quot;">TimeoutError</error>'
        counts["errors"] += 1
    total += time_s
    attrs = f"classname={quoteattr(classname)} name={quoteattr(name)} time=\"{time_s:.3f}\""
    cases.append(f"<testcase {attrs}>{body}</testcase>" if body else f"<testcase {attrs} />")
head = '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">'
c = counts
suite = (f'<testsuite name="pytest" errors="{c["errors"]}" failures="{c["failures"]}" '
         f'skipped="{c["skipped"]}" tests="{tests}" time="{total:.3f}" hostname="ci">')
sys.stdout.write(head + suite + "".join(cases) + "</testsuite></testsuites>\n")
