"""The live index: which authenticated sockets are open, by token id and by user.

It holds the one copy of each socket's verified claims. A socket leaves it
before its ``disconnect`` handler runs (no event of it is handled from then
on); while that handler runs, :func:`departing` still tells who it was.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["LiveSockets", "SocketKey", "departing", "departed_claims"]

SocketKey = tuple[str, str]  # (sid, namespace)

# The socket whose disconnect is being dispatched in this task, and its claims.
_DEPARTING: ContextVar[tuple[SocketKey, dict[str, Any]] | None] = ContextVar(
    "tsj_departing", default=None
)


@contextmanager
def departing(key: SocketKey, claims: dict[str, Any] | None) -> Iterator[None]:
    """While the body runs (the socket's disconnect being dispatched),
    :func:`departed_claims` answers ``claims`` for ``key``; no-op without them."""
    if claims is None:
        yield
        return
    token = _DEPARTING.set((key, claims))
    try:
        yield
    finally:
        _DEPARTING.reset(token)


def departed_claims(key: SocketKey) -> dict[str, Any] | None:
    """The claims socket ``key`` had, while its disconnect is being dispatched."""
    entry = _DEPARTING.get()
    return entry[1] if entry is not None and entry[0] == key else None


class LiveSockets:
    """Which authenticated sockets are open, by token id and by user."""

    def __init__(self) -> None:
        self._by_jti: dict[str, set[tuple[str, str]]] = defaultdict(set)
        self._by_sub: dict[str, set[tuple[str, str]]] = defaultdict(set)
        self._claims: dict[tuple[str, str], dict[str, Any]] = {}

    def add(self, sid: str, namespace: str, claims: dict[str, Any]) -> None:
        self.discard(sid, namespace)
        key = (sid, namespace)
        self._claims[key] = claims
        self._by_jti[str(claims.get("jti"))].add(key)
        self._by_sub[str(claims.get("sub"))].add(key)

    def discard(self, sid: str, namespace: str) -> dict[str, Any] | None:
        key = (sid, namespace)
        claims = self._claims.pop(key, None)
        if claims is not None:
            _remove(self._by_jti, str(claims.get("jti")), key)
            _remove(self._by_sub, str(claims.get("sub")), key)
        return claims

    def claims(self, sid: str, namespace: str) -> dict[str, Any] | None:
        return self._claims.get((sid, namespace))

    def by_jti(self, jti: str) -> list[tuple[str, str]]:
        return list(self._by_jti.get(jti, ()))

    def by_sub(self, sub: str) -> list[tuple[str, str]]:
        return list(self._by_sub.get(sub, ()))

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._claims))

    def __len__(self) -> int:
        return len(self._claims)


def _remove(
    index: dict[str, set[tuple[str, str]]], name: str, key: tuple[str, str]
) -> None:
    members = index.get(name)
    if members is not None:
        members.discard(key)
        if not members:
            del index[name]
