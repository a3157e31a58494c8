"""What the Makefile promises in the README: ``make run`` needs no Node (the
socket.io-client bundle is vendored), while ``make test`` checks the vendored
copy against the npm lock file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def recipes(target: str) -> str:
    """Every command ``make`` would run for ``target``, all out of date (-B),
    printed and not run (-n)."""
    return subprocess.run(
        ["make", "-n", "-B", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout


pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="no make")


def test_make_run_needs_no_node() -> None:
    commands = recipes("run")
    assert "server.py" in commands
    assert "npm" not in commands and "node_modules" not in commands


def test_make_test_checks_the_vendored_bundle_with_npm() -> None:
    commands = recipes("test")
    assert "npm ci" in commands and "static/vendor" in commands
