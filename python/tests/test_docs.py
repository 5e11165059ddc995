"""Every ```python block of docs/python.md, run in order in one namespace (a notebook),
in a scratch directory with the repository's traces/, against a real ``lbsim serve``."""

import contextlib
import io
import os
import re
import shutil

import pytest

from test_client import server  # noqa: F401  (the fixture)


def python_blocks(text):
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_every_python_block_of_the_python_page_runs(server, repo_root, tmp_path, monkeypatch):  # noqa: F811
    pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    blocks = python_blocks((repo_root / "docs" / "python.md").read_text())
    assert len(blocks) >= 5
    url, token = server
    shutil.copytree(repo_root / "traces", tmp_path / "traces")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LBSIM_URL", url)
    monkeypatch.setenv("LBSIM_TOKEN", token)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    scope = {"__name__": "__docs__"}
    out = io.StringIO()
    for n, block in enumerate(blocks):
        with contextlib.redirect_stdout(out):
            exec(compile(block, f"docs/python.md block {n + 1}", "exec"), scope)
    text = out.getvalue()
    assert "Test test0 assigned to worker1" in text
    assert "completed 0.0 2.5 32.5 30.0" in text
    assert (tmp_path / "policies.png").stat().st_size > 0
    assert "10 completed {'model': 'bert-base-uncased', 'latency_ms': 12.5}" in text
