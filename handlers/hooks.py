"""The application's callables: hooks told of each admission and refusal
(never the token), and handlers that may be plain functions or coroutines."""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from .credentials import remote_address
from .errors import AuthError
from .metrics import Metrics

__all__ = ["FailureHook", "SuccessHook", "Outcomes", "run_hook", "call_app"]

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


class Outcomes:
    """What is heard of each socket admitted or refused: a log line (code and
    sid, never the token), a metric, and the application's hook.

    :param on_failure: called as ``(code, sid, remote_addr)`` on each refusal.
    :param on_success: called as ``(sid, claims)`` on each admission.
    """

    def __init__(
        self,
        metrics: Metrics,
        on_failure: FailureHook | None = None,
        on_success: SuccessHook | None = None,
    ) -> None:
        self.metrics = metrics
        self._on_failure, self._on_success = on_failure, on_success

    async def succeeded(
        self, sid: str, claims: Mapping[str, Any], started: float | None = None
    ) -> None:
        """The socket is in (the app's connect handler accepted it).

        :param started: ``time.perf_counter()`` when its handshake began.
        """
        log.info(
            "socket authenticated sid=%s sub=%s",
            sid,
            claims.get("sub"),
            extra={"tsj_event": "socket_authenticated", "tsj_sid": sid},
        )
        self.metrics.handshakes.inc()
        if started is not None:
            self.metrics.handshake_seconds.observe(time.perf_counter() - started)
        if self._on_success is not None:
            await run_hook(self._on_success, sid, claims)

    async def refused(
        self,
        err: AuthError,
        sid: str,
        environ: Mapping[str, Any],
        *,
        action: str = "socket",
    ) -> None:
        """A refusal.

        :param action: what was refused, for the log line: ``"socket"``
                       (handshake or ``authenticate``), ``"refresh"``, ...
        """
        remote = remote_address(environ)
        log.info(
            "%s refused sid=%s code=%s",
            action,
            sid,
            err.code,
            extra={
                "tsj_event": f"{action}_refused",
                "tsj_sid": sid,
                "tsj_code": err.code,
                "tsj_remote": remote,
            },
        )
        self.metrics.refusals.labels(err.code, action).inc()
        if self._on_failure is not None:
            await run_hook(self._on_failure, err.code, sid, remote)
