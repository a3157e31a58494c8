"""The application's hooks: called on each refusal and admission, never with a token."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

__all__ = ["FailureHook", "SuccessHook", "run_hook"]

log = logging.getLogger("tornado_socketio_jwt")

FailureHook = Callable[[str, str, "str | None"], "Awaitable[None] | None"]
SuccessHook = Callable[[str, Mapping[str, Any]], "Awaitable[None] | None"]


async def run_hook(hook: Callable[..., Any], *args: Any) -> None:
    """Run a hook; its failure is logged, never the socket's fate."""
    try:
        result = hook(*args)
        if inspect.isawaitable(result):
            await result
    except Exception:
        log.exception("authentication hook %r failed", hook)
