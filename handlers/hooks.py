"""The application's callables: hooks called on each refusal and admission
(never with a token), and handlers that may be plain functions or coroutines."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

__all__ = ["FailureHook", "SuccessHook", "run_hook", "call_app"]

log = logging.getLogger("tornado_socketio_jwt")

FailureHook = Callable[[str, str, "str | None"], "Awaitable[None] | None"]
SuccessHook = Callable[[str, Mapping[str, Any]], "Awaitable[None] | None"]


async def call_app(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, awaited when it is a coroutine function (as python-socketio
    accepts both for handlers)."""
    result = fn(*args)
    return await result if inspect.isawaitable(result) else result


async def run_hook(hook: Callable[..., Any], *args: Any) -> None:
    """Run a hook; its failure is logged, never the socket's fate."""
    try:
        await call_app(hook, *args)
    except Exception:
        log.exception("authentication hook %r failed", hook)
