"""The denylist: revoked ``jti``s and per-user cut-offs, kept until expiry.

Lookups are in memory so that a handshake never waits for a database.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["RevocationList"]


class RevocationList:
    """Revoked token ids (until their ``exp``) and per-user not-before cut-offs.

    :param clock: returns epoch seconds; injectable for tests.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._jtis: dict[str, float] = {}
        self._cutoffs: dict[str, tuple[float, float]] = {}

    def revoke(self, jti: str, exp: float) -> None:
        """Revoke one token id until ``exp`` (after which it is dead anyway)."""
        self._jtis[jti] = max(exp, self._jtis.get(jti, 0))

    def revoke_all(self, sub: str, before: float, until: float) -> None:
        """Revoke every token of ``sub`` issued at or before ``before``.

        :param until: when the cut-off can be forgotten (the latest ``exp``
                      such a token can have).
        """
        old_before, old_until = self._cutoffs.get(sub, (0.0, 0.0))
        self._cutoffs[sub] = (max(before, old_before), max(until, old_until))

    def is_revoked(self, claims: Mapping[str, Any]) -> bool:
        """Whether verified ``claims`` belong to a revoked token."""
        jti = claims.get("jti")
        if jti is not None and jti in self._jtis:
            return True
        cutoff = self._cutoffs.get(str(claims.get("sub")))
        return cutoff is not None and float(claims.get("iat", 0)) <= cutoff[0]

    def prune(self) -> int:
        """Forget entries whose tokens have expired; returns how many."""
        now = self._clock()
        dead = [jti for jti, exp in self._jtis.items() if exp < now]
        for jti in dead:
            del self._jtis[jti]
        gone = [sub for sub, (_, until) in self._cutoffs.items() if until < now]
        for sub in gone:
            del self._cutoffs[sub]
        return len(dead) + len(gone)

    def __len__(self) -> int:
        return len(self._jtis) + len(self._cutoffs)
