"""The live index: which authenticated sockets are open, by token id and by user."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

__all__ = ["LiveSockets", "SocketKey"]

SocketKey = tuple[str, str]  # (sid, namespace)


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
