"""What both flows work with: verification, namespace rules, the gate, sessions."""

from __future__ import annotations

from ..authenticator import Authenticator
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
    """

    def __init__(
        self,
        authenticator: Authenticator,
        rules: NamespaceRules,
        gate: Gate,
        sessions: SessionTracker,
    ) -> None:
        self.authenticator = authenticator
        self.rules = rules
        self.gate = gate
        self.sessions = sessions
