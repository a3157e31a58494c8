"""Allowed browser origins: normalised once, in the shape browsers send them."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["ANY_ORIGIN", "normalize_origins", "engineio_origins"]

ANY_ORIGIN = "*"
DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origins(origins: tuple[str, ...]) -> tuple[str, ...]:
    """``origins`` as a browser writes its ``Origin`` header: lower-case
    ``scheme://host[:port]``, no trailing slash, no default port. ``"*"``
    anywhere means every origin, alone.

    :raises ValueError: an entry with a path, query, user or another scheme,
                        which no ``Origin`` header ever matches.
    """
    if any(origin.strip() == ANY_ORIGIN for origin in origins):
        return (ANY_ORIGIN,)
    return tuple(dict.fromkeys(_normalize(origin) for origin in origins))


def _normalize(origin: str) -> str:
    parts = urlsplit(origin.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    try:
        port = parts.port
    except ValueError:
        port = -1
    bad = (
        scheme not in DEFAULT_PORTS
        or not host
        or port == -1
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
    )
    if bad:
        raise ValueError(
            f"cors origin {origin!r} must be scheme://host[:port] (http or https)"
        )
    host = f"[{host}]" if ":" in host else host
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def engineio_origins(origins: tuple[str, ...] | None) -> str | list[str] | None:
    """The ``cors_allowed_origins`` value for ``socketio.AsyncServer``.

    Every origin must be the string ``"*"``: python-engineio's Tornado
    websocket handler only treats that string as "any", and checks a list
    holding ``"*"`` as a literal origin, so websockets were refused while
    polling (which accepts ``["*"]``) worked.
    """
    if origins is None:
        return None
    if ANY_ORIGIN in origins:
        return ANY_ORIGIN
    return list(origins)
