"""Debian's nginx in front of test servers, configured from deploy/nginx.conf.

Skipped when nginx is missing, except under CI (``CI=true``), where that is a
failure. The configuration and the process itself: ``tests/daemons.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.daemons import NGINX, nginx_process

__all__ = ["require_nginx", "running_nginx"]


def require_nginx() -> str:
    """The nginx binary; skip (or fail under CI) without one."""
    if NGINX is None:
        reason = "nginx is not installed (apt-get install nginx)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot run under CI: {reason}", pytrace=False)
        pytest.skip(reason)
    return NGINX


@contextmanager
def running_nginx(directory: Path, backends: Sequence[int]) -> Iterator[int]:
    """nginx on a free port in front of ``backends``; yields that port."""
    with nginx_process(require_nginx(), directory, backends) as port:
        yield port
