"""Shared fixtures: the repository root and the `xbar` binary whose CSVs are the reference.

The CLI is the oracle here: the Python module must return the very numbers `xbar` writes.
Point XBAR_BIN at the binary, or build it with `cargo build --release` first (found under
$CARGO_TARGET_DIR or target/).
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def xbar() -> str:
    candidates = [os.environ.get("XBAR_BIN")]
    target = os.environ.get("CARGO_TARGET_DIR")
    if target:
        candidates.append(str(Path(target) / "release" / "xbar"))
    candidates += [str(REPO / "target" / "release" / "xbar"), shutil.which("xbar")]
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return c
    pytest.fail("no xbar binary: set XBAR_BIN or run `cargo build --release` first")


@pytest.fixture()
def run_xbar(xbar):
    def run(*args, cwd=None):
        p = subprocess.run([xbar, *map(str, args)], capture_output=True, text=True, cwd=cwd)
        assert p.returncode == 0, f"xbar {' '.join(map(str, args))} failed:\n{p.stderr}"
        return p.stdout

    return run
