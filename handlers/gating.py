"""Which namespaces are gated: every one, those that exist and those to come.

python-socketio creates a namespace's handler table in its public
``sio.handlers`` dict the first time a handler is registered for it. After
:func:`install_gates`, ``sio.handlers`` is a :class:`GatedNamespaces` dict, so
a table created later (``@sio.on("connect", namespace="/new")`` after
``attach_jwt_auth``) is gated as it appears: no namespace is ever open.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from .authenticator import Authenticator
from .catch_all import install_catch_all_gate
from .event_auth import EventFlow
from .event_guard import install_event_gate
from .gate import CATCH_ALL, GateTable, install_gate
from .refresh import register_refresh

__all__ = ["GatedNamespaces", "install_gates"]

Installer = Callable[[str], None]


class GatedNamespaces(dict):  # type: ignore[type-arg]
    """``sio.handlers``: each namespace table stored here gets the gate."""

    def __init__(self, existing: Mapping[str, Any], install: Installer) -> None:
        super().__init__(existing)
        self._install = install

    def __setitem__(self, namespace: str, table: Any) -> None:
        super().__setitem__(namespace, table)
        if namespace != CATCH_ALL and not isinstance(table, GateTable):
            self._install(namespace)


def install_gates(
    authenticator: Authenticator,
    listed: tuple[str, ...],
    add_events: Installer,
) -> None:
    """Gate the ``listed`` namespaces (and give them ``add_events``), every
    other namespace that has handlers now, and every one created later."""
    sio = authenticator.sio
    if authenticator.settings.auth_flow == "event":
        authenticator.event_flow = EventFlow(authenticator)

    def gate(namespace: str) -> None:
        if authenticator.event_flow is not None:
            install_event_gate(authenticator.event_flow, namespace)
        else:
            install_gate(authenticator, namespace)
        register_refresh(authenticator, namespace)

    install_catch_all_gate(authenticator, gate)
    for namespace in listed:
        gate(namespace)
        add_events(namespace)
    for namespace, table in list(sio.handlers.items()):
        if namespace != CATCH_ALL and not isinstance(table, GateTable):
            gate(namespace)
    sio.handlers = GatedNamespaces(sio.handlers, gate)
