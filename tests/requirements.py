"""What some tests need from the machine: without it they skip, except under CI."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

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


async def run_node(script: Path, scenario: dict[str, Any], timeout: float) -> str:
    """Run a tests/node script with ``scenario`` as JSON on its standard input;
    its standard output. Bounded by ``timeout``; the process is killed on the
    way out whatever happens; a non-zero exit fails with its standard error."""
    assert NODE is not None
    process = await asyncio.create_subprocess_exec(
        NODE,
        str(script),
        cwd=str(ROOT),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(
            process.communicate(json.dumps(scenario).encode()), timeout
        )
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode(errors="replace")
    return stdout.decode()
