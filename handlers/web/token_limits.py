"""Per-user limits on ``/token/refresh`` and ``/logout``, and revocations that
could not be saved yet (so that a retry can finish them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config import AuthSettings
from ..errors import TooManyAttemptsError
from .limits import FailureLimiter

__all__ = ["BearerLimits"]

TOO_MANY_REFRESHES = "Too many token refreshes; try again later."
TOO_MANY_LOGOUTS = "Too many logouts; try again later."


class BearerLimits:
    """State shared by one server's Bearer endpoints.

    :param max_refreshes: ``/token/refresh`` calls allowed per user (``sub``)
                          within ``window`` seconds; 429 past it.
    :param max_logouts: ``/logout`` calls allowed per user within ``window``;
                        this bounds how fast one token holder can grow the
                        denylist (mint with refresh, revoke with logout).
    """

    def __init__(self, max_refreshes: int, max_logouts: int, window: float) -> None:
        self.refreshes = FailureLimiter(max_refreshes, window)
        self.logouts = FailureLimiter(max_logouts, window)
        # Revoked in memory, not yet on disk: a retry with the token may finish.
        self.unsaved_jtis: set[str] = set()
        self.unsaved_subs: set[str] = set()

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> BearerLimits:
        """The limits ``settings`` configure."""
        return cls(
            settings.refresh_max_per_user,
            settings.logout_max_per_user,
            settings.bearer_window,
        )

    def count_refresh(self, sub: str) -> None:
        """Count one refresh for ``sub``.

        :raises TooManyAttemptsError: ``sub`` is over its limit.
        """
        _count(self.refreshes, sub, TOO_MANY_REFRESHES)

    def count_logout(self, sub: str) -> None:
        """Count one logout for ``sub``.

        :raises TooManyAttemptsError: ``sub`` is over its limit.
        """
        _count(self.logouts, sub, TOO_MANY_LOGOUTS)

    def unsaved(self, claims: Mapping[str, Any]) -> bool:
        """Whether the revocation that covers ``claims`` failed to persist."""
        jti, sub = claims.get("jti"), str(claims.get("sub"))
        return (jti is not None and str(jti) in self.unsaved_jtis) or (
            sub in self.unsaved_subs
        )


def _count(limiter: FailureLimiter, key: str, message: str) -> None:
    wait = limiter.retry_after(key)
    if wait:
        raise TooManyAttemptsError(wait, message)
    limiter.attempt(key)
