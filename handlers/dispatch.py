"""Calling an application's handler the way python-socketio would."""

from __future__ import annotations

import inspect
from typing import Any, Callable

__all__ = ["call_handler"]


async def call_handler(handler: Callable[..., Any], *args: Any) -> Any:
    """Call a user's handler with as many leading arguments as it accepts."""
    result = handler(*args[: _arity(handler, len(args))])
    return await result if inspect.isawaitable(result) else result


def _arity(handler: Callable[..., Any], most: int) -> int:
    try:
        params = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature
        return most
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return most
    return min(
        most,
        sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params),
    )
