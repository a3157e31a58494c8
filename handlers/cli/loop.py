"""``run``: the server's coroutine on uvloop's event loop when it is installed.

Tornado's IOLoop wraps whatever asyncio loop is running, so the choice is made
here, before the first IOLoop exists. uvloop is an optional accelerator (the
``speed`` extra; no Windows build): without it, or with ``--event-loop
asyncio``, asyncio's own loop runs, as ``asyncio.run`` does.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["run", "loop_factory"]


def loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's ``new_event_loop`` for ``auto`` when it imports, else ``None``."""
    if choice != "auto" or sys.version_info < (3, 11):  # no asyncio.Runner
        return None
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run(main: Coroutine[Any, Any, None], choice: str = "auto") -> None:
    """Run ``main`` to completion on the loop ``choice`` names: auto, asyncio."""
    factory = loop_factory(choice)
    if factory is None:
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main)
