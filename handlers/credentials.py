"""Presented tokens: where one is found (the ``auth`` payload, the query string,
the header), how large it may be, and which one may replace another."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from .errors import (
    CredentialsBadFormatError,
    CredentialsRequiredError,
    TokenInvalidError,
)

__all__ = [
    "extract_token",
    "check_token_size",
    "is_successor",
    "session_started",
    "remote_address",
]

BEARER = "bearer"
TOO_LARGE = "The token is larger than this server accepts ({} bytes)."


def extract_token(
    environ: Mapping[str, Any], auth: object, sources: tuple[str, ...]
) -> str:
    """Find the token in the handshake, trying ``sources`` in order.

    Its size is checked once, by verification, before anything decodes it.

    :raises CredentialsRequiredError: no source has a token.
    :raises CredentialsBadFormatError: a source has something that is not one.
    """
    for source in sources:
        token = _READERS[source](environ, auth)
        if token is not None:
            return token
    raise CredentialsRequiredError()


def check_token_size(token: str, max_bytes: int) -> str:
    """``token`` itself, when it is at most ``max_bytes`` long in UTF-8.

    Cheap and first: :func:`~.tokens.read_header` calls it before anything is
    decoded (a JWS is ASCII, so its length in characters is its length in
    bytes).

    :raises TokenInvalidError: the token is longer.
    """
    too_long = len(token) > max_bytes or (
        not token.isascii() and len(token.encode("utf-8", "surrogatepass")) > max_bytes
    )
    if too_long:
        raise TokenInvalidError(TOO_LARGE.format(max_bytes))
    return token


def _from_auth(environ: Mapping[str, Any], auth: object) -> str | None:
    if auth is None:
        return None
    if not isinstance(auth, dict):
        raise CredentialsBadFormatError()
    if "token" not in auth:
        return None
    return _strip_bearer(auth["token"], required=False)


def _from_query(environ: Mapping[str, Any], auth: object) -> str | None:
    values = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).get(
        "token"
    )
    if not values:
        return None
    return _strip_bearer(values[0], required=False)


def _from_header(environ: Mapping[str, Any], auth: object) -> str | None:
    header = environ.get("HTTP_AUTHORIZATION")
    if header is None:
        return None
    return _strip_bearer(header, required=True)


def _strip_bearer(value: object, *, required: bool) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CredentialsBadFormatError()
    parts = value.split()
    if len(parts) == 2 and parts[0].lower() == BEARER:
        return parts[1]
    if required or len(parts) != 1:
        raise CredentialsBadFormatError()
    return parts[0]


def is_successor(current: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether verified ``new`` claims may replace ``current`` on a live socket.

    A successor is a token for the same ``sub`` issued no earlier, whatever
    its lifetime (it may expire before the current one). When the current
    token has no ``iat``, any token of the same user follows it; a new token
    without one never does.
    """
    if str(new.get("sub")) != str(current.get("sub")):
        return False
    old_iat, new_iat = _date(current.get("iat")), _date(new.get("iat"))
    if old_iat is None:
        return True
    return new_iat is not None and new_iat >= old_iat


def session_started(claims: Mapping[str, Any]) -> float | None:
    """When the login behind verified ``claims`` happened: ``auth_time``, which
    a refresh carries over, else ``iat``; ``None`` when neither is a date.

    The one rule for "how old is this session": a refresh never outlives
    ``max_session_age`` from it, and a cut-off ("log out everywhere",
    ``passwd``, ``deluser``) revokes every token of a session started at or
    before it, refreshed ones included.
    """
    started = _date(claims.get("auth_time"))
    return started if started is not None else _date(claims.get("iat"))


def _date(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


_READERS: dict[str, Callable[[Mapping[str, Any], object], str | None]] = {
    "auth": _from_auth,
    "query": _from_query,
    "header": _from_header,
}


def remote_address(environ: Mapping[str, Any]) -> str | None:
    """The client's address: the Tornado request's ``remote_ip`` when there is one.

    python-engineio's Tornado driver writes ``REMOTE_ADDR = "127.0.0.1"`` into
    every environ, so that key alone would make every client look local.
    """
    handler = environ.get("tornado.handler")
    request = getattr(handler, "request", None)
    address = getattr(request, "remote_ip", None)
    if isinstance(address, str):
        return address
    value = environ.get("REMOTE_ADDR")
    return value if isinstance(value, str) else None
