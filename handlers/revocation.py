"""The denylist: revoked ``jti``s (until expiry) and per-user cut-offs.

Lookups are in memory so that a handshake never waits for a database.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from .credentials import session_started

__all__ = ["RevocationList", "wait_to_issue"]


class RevocationList:
    """Revoked token ids (until their ``exp``) and per-user not-before cut-offs.

    A cut-off revokes every token of a user whose session started at or before
    it (``auth_time``, else ``iat``: see :func:`.credentials.session_started`).
    Dates are whole seconds, so a cut-off at second ``S`` also covers a token
    issued earlier in that second; :func:`wait_to_issue` keeps a token issued
    *after* the cut-off out of it by waiting for second ``S + 1``.

    :param clock: returns epoch seconds; injectable for tests.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._jtis: dict[str, float] = {}
        self._cutoffs: dict[str, tuple[float, float]] = {}

    def revoke(self, jti: str, exp: float) -> None:
        """Revoke one token id until ``exp`` (after which it is dead anyway)."""
        self._jtis[jti] = max(exp, self._jtis.get(jti, 0))

    def revoke_all(self, sub: str, before: float, until: float = math.inf) -> None:
        """Revoke every token of ``sub`` issued at or before ``before``.

        :param until: when the cut-off may be forgotten; default never. The
                      tokens it covers may have been issued under any earlier
                      ``token_ttl``, so no lifetime known now bounds them;
                      one entry per user costs little.
        """
        old_before, old_until = self._cutoffs.get(sub, (-math.inf, -math.inf))
        self._cutoffs[sub] = (max(before, old_before), max(until, old_until))

    def cutoff(self, sub: str) -> float | None:
        """The latest ``iat`` revoked for ``sub`` by a cut-off, or ``None``."""
        entry = self._cutoffs.get(str(sub))
        return entry[0] if entry is not None else None

    def issue_delay(self, sub: str, now: float) -> float:
        """Seconds to wait before a token for ``sub`` issued at ``now`` (whole
        second ``floor(now)``) falls after the user's cut-off; 0 when it does."""
        cutoff = self.cutoff(sub)
        if cutoff is None or math.floor(now) > cutoff:
            return 0.0
        return math.floor(cutoff) + 1 - now

    def is_revoked(self, claims: Mapping[str, Any]) -> bool:
        """Whether verified ``claims`` belong to a revoked token."""
        jti = claims.get("jti")
        if jti is not None and jti in self._jtis:
            return True
        cutoff = self._cutoffs.get(str(claims.get("sub")))
        if cutoff is None:
            return False
        # The session's start, not the token's: a token refreshed after the
        # cut-off from a session begun before it is revoked too.
        started = session_started(claims)
        return started is None or started <= cutoff[0]

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


async def wait_to_issue(
    revocations: RevocationList,
    sub: str,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> float:
    """Wait on the loop (never blocking it) until a token issued now for ``sub``
    is not covered by its cut-off; returns the issue time to use.

    At most about a second, and only right after a "log out everywhere".

    :param clock: epoch seconds; injectable for tests.
    :param sleep: the awaitable delay; injectable for tests.
    """
    now = clock()
    while (delay := revocations.issue_delay(sub, now)) > 0:
        await sleep(delay)
        now = clock()
    return now
