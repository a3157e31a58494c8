"""The Engine.IO heartbeat from ``Transport`` onto an existing server.

python-engineio takes ``ping_interval`` and ``ping_timeout`` as constructor
arguments and keeps them as attributes of ``sio.eio``, read for each session
it opens (the OPEN packet's ``pingInterval``/``pingTimeout``, the ping loop,
the timeout check). :func:`attach_jwt_auth` receives a server that exists, so
the settings are set on those attributes; a contract test checks the OPEN
packet carries them.
"""

from __future__ import annotations

from typing import Any

from ..config import Transport

__all__ = ["apply_heartbeat"]


def apply_heartbeat(sio: Any, transport: Transport) -> None:
    """Set the values of ``transport`` that are not ``None`` on ``sio.eio``."""
    if transport.ping_interval is not None:
        sio.eio.ping_interval = transport.ping_interval
    if transport.ping_timeout is not None:
        sio.eio.ping_timeout = transport.ping_timeout
