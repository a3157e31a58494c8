"""What some tests need from the machine: without it they skip, except under CI."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NODE = shutil.which("node")
CLIENT_PACKAGE = ROOT / "node_modules" / "socket.io-client" / "package.json"


def node_client_missing() -> str | None:
    """Why Node's official socket.io-client cannot run here, or ``None``."""
    if NODE is None:
        return "node is not on PATH (install Node.js 20)"
    if not CLIENT_PACKAGE.is_file():
        return f"{CLIENT_PACKAGE.parent} is missing (run make, which runs npm ci)"
    return None


def require(reason: str | None, what: str) -> None:
    """Skip the calling module when ``reason`` says something is missing; under
    ``CI=true`` fail instead, naming ``what`` could not run."""
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} cannot run under CI: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)
