"""Per-user limits on ``/token/refresh`` and ``/logout``, and revocations that
could not be saved yet (so that a retry can finish them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..config import AuthSettings
from ..errors import TooManyAttemptsError
from ..limiter import FailureLimiter, Limiter

__all__ = ["BearerLimits"]

TOO_MANY_REFRESHES = "Too many token refreshes; try again later."
TOO_MANY_LOGOUTS = "Too many logouts; try again later."


Share = Callable[[str, FailureLimiter], Limiter]


class BearerLimits:
    """State shared by one server's Bearer endpoints.

    :param refreshes: counts ``/token/refresh`` calls per user (``sub``);
                      429 past its limit.
    :param logouts: counts ``/logout`` calls per user; this bounds how fast
                    one token holder can grow the denylist (mint with
                    refresh, revoke with logout).
    """

    def __init__(self, refreshes: Limiter, logouts: Limiter) -> None:
        self.refreshes, self.logouts = refreshes, logouts
        # Revoked in memory, not yet on disk: a retry with the token may finish.
        self.unsaved_jtis: set[str] = set()
        self.unsaved_subs: set[str] = set()

    @classmethod
    def from_settings(
        cls, settings: AuthSettings, share: Share | None = None
    ) -> BearerLimits:
        """The limits ``settings`` configure, counted in this process.

        :param share: ``(scope, local) -> counter``: counts them elsewhere
                      instead (``"refresh"``, ``"logout"``), e.g. in Redis,
                      falling back to ``local``; default none.
        """
        window = settings.bearer_window
        refreshes = FailureLimiter(settings.refresh_max_per_user, window)
        logouts = FailureLimiter(settings.logout_max_per_user, window)
        if share is None:
            return cls(refreshes, logouts)
        return cls(share("refresh", refreshes), share("logout", logouts))

    async def count_refresh(self, sub: str) -> None:
        """Count one refresh for ``sub``.

        :raises TooManyAttemptsError: ``sub`` is over its limit.
        """
        await _count(self.refreshes, sub, TOO_MANY_REFRESHES)

    async def count_logout(self, sub: str) -> None:
        """Count one logout for ``sub``.

        :raises TooManyAttemptsError: ``sub`` is over its limit.
        """
        await _count(self.logouts, sub, TOO_MANY_LOGOUTS)

    def unsaved(self, claims: Mapping[str, Any]) -> bool:
        """Whether the revocation that covers ``claims`` failed to persist."""
        jti, sub = claims.get("jti"), str(claims.get("sub"))
        return (jti is not None and str(jti) in self.unsaved_jtis) or (
            sub in self.unsaved_subs
        )


async def _count(counter: Limiter, key: str, message: str) -> None:
    # take() checks and counts in one step, so concurrent calls cannot slip past.
    wait = await counter.take(key)
    if wait:
        raise TooManyAttemptsError(wait, message)
