"""Building the wheel and the sdist from the working tree, and a fresh venv for it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OLDEST_PYTHON = "3.10"  # setup.cfg: python_requires >= 3.10
BUILD_TIMEOUT = 300  # seconds; a cold pip cache fetches the build backend


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run ``command`` (bounded) and fail with its output if it fails."""
    kwargs.setdefault("timeout", BUILD_TIMEOUT)
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, (command, result.stdout, result.stderr)
    return result


def build_wheel(out: Path) -> Path:
    """``pip wheel`` of the working tree (build isolation, as a user's build)."""
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), "."],
        cwd=ROOT,
    )
    [wheel] = out.glob("*.whl")
    return wheel


def build_sdist(out: Path) -> Path:
    """The sdist, built by this environment's setuptools."""
    code = "import sys, setuptools.build_meta as b; b.build_sdist(sys.argv[1])"
    run([sys.executable, "-c", code, str(out)], cwd=ROOT)
    [sdist] = out.glob("*.tar.gz")
    return sdist


def oldest_python() -> str:
    """The oldest Python the package declares, if this machine has it; else ours."""
    candidates = [shutil.which(f"python{OLDEST_PYTHON}")]
    prefix = _pyenv_prefix(OLDEST_PYTHON)
    if prefix:
        candidates.append(str(Path(prefix) / "bin" / f"python{OLDEST_PYTHON}"))
    for candidate in filter(None, candidates):
        try:
            probe = subprocess.run(
                [candidate, "--version"], capture_output=True, timeout=30
            )
        except OSError:
            continue
        if probe.returncode == 0:
            return candidate
    return sys.executable


def _pyenv_prefix(version: str) -> str | None:
    if shutil.which("pyenv") is None:
        return None
    found = subprocess.run(
        ["pyenv", "prefix", version], capture_output=True, text=True, timeout=30
    )
    return found.stdout.strip() if found.returncode == 0 else None


def clean_environment() -> dict[str, str]:
    """Ours, less what would let the checkout or our venv leak into another one."""
    leaks = (
        "PYTHONPATH",
        "VIRTUAL_ENV",
        "PYTHONHOME",
        "JWT_SECRET",
        "DATA_DIR",
        "PORT",
    )
    return {k: v for k, v in os.environ.items() if k not in leaks}


def make_venv(python: str, where: Path, wheel: Path) -> Path:
    """A fresh venv at ``where`` with ``wheel`` installed; its ``bin`` directory."""
    run([python, "-m", "venv", str(where)], env=clean_environment())
    bin_dir = where / "bin"
    run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)],
        env=clean_environment(),
        cwd=where,
    )
    return bin_dir
