"""What both flows work with, and the one admission sequence they share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..authenticator import Authenticator
from ..credentials import extract_token
from ..hooks import AdditionalAuth, run_additional_auth
from ..live import departing
from .gate import Gate
from .limits import SessionTracker
from .rules import NamespaceRules

__all__ = ["FlowBase"]


class FlowBase:
    """The parts of a flow (:class:`HandshakeFlow` or :class:`EventFlow`).

    :param authenticator: verification, the live index, revocation and kicks.
    :param rules: the namespace rules checked at admission and refresh.
    :param gate: whose ``dispatch`` runs the application's handlers.
    :param sessions: per-client limits checked at admission.
    :param additional_auth: the application's check after verification.
    """

    def __init__(
        self,
        authenticator: Authenticator,
        rules: NamespaceRules,
        gate: Gate,
        sessions: SessionTracker,
        additional_auth: AdditionalAuth | None = None,
    ) -> None:
        self.authenticator = authenticator
        self.rules = rules
        self.gate = gate
        self.sessions = sessions
        self.additional_auth = additional_auth

    async def admissible_claims(
        self,
        namespace: str,
        environ: Mapping[str, Any],
        auth: object,
        sources: tuple[str, ...],
        replacing: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        """The claims of the token presented to join ``namespace``, once they
        pass every check: extract, verify (size, signature, dates, revocation),
        the namespace's rules, the per-client limits, then the application's
        ``additional_auth``.

        :param auth: the ``auth`` payload (CONNECT's, or ``authenticate``'s).
        :param sources: where to look for the token, in order.
        :param replacing: ``(sid, namespace)`` of the live socket a recovery
                          takes over: not counted against the per-user limit.
        :raises UnauthorizedError: the first check that refuses.
        """
        token = extract_token(environ, auth, sources)
        claims = await self.authenticator.verify(token)
        self.rules.check(self.authenticator.sio, namespace, claims)
        self.sessions.check(environ, claims, replacing)
        if self.additional_auth is not None:
            await run_additional_auth(self.additional_auth, claims, environ)
        return claims

    async def app_disconnect(
        self, namespace: str, sid: str, reason: object, claims: dict[str, Any] | None
    ) -> None:
        """The app's ``disconnect`` handlers, run after the clean-up: the socket
        is no longer authenticated, but ``current_user`` still says who it was."""
        with departing((sid, namespace), claims):
            await self.gate.dispatch_disconnect(namespace, sid, reason)
