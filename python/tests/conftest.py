"""Shared fixtures: the repository root and the CLI binary built from it."""

import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def repo_root() -> pathlib.Path:
    return ROOT


@pytest.fixture(scope="session")
def lbsim_bin() -> str:
    """``LBSIM_BIN``, else ``target/release/lbsim`` of this repository, built if
    missing (the CLI whose bytes the package must match)."""
    given = os.environ.get("LBSIM_BIN")
    if given:
        return given
    path = ROOT / "target" / "release" / "lbsim"
    if not path.exists():
        if shutil.which("cargo") is None:
            pytest.fail("no target/release/lbsim and no cargo to build it (set LBSIM_BIN)")
        subprocess.run(["cargo", "build", "--release", "--bin", "lbsim"], cwd=ROOT, check=True)
    return str(path)
