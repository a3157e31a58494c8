"""Where a token is found: the ``auth`` payload, the query string, the header."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from .errors import CredentialsBadFormatError, CredentialsRequiredError

__all__ = ["extract_token", "remote_address", "TOKEN_SOURCES"]

BEARER = "bearer"


def extract_token(
    environ: Mapping[str, Any], auth: object, sources: tuple[str, ...]
) -> str:
    """Find the token in the handshake, trying ``sources`` in order.

    :raises CredentialsRequiredError: no source has a token.
    :raises CredentialsBadFormatError: a source has something that is not one.
    """
    for source in sources:
        token = _READERS[source](environ, auth)
        if token is not None:
            return token
    raise CredentialsRequiredError()


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


_READERS: dict[str, Callable[[Mapping[str, Any], object], str | None]] = {
    "auth": _from_auth,
    "query": _from_query,
    "header": _from_header,
}

TOKEN_SOURCES = tuple(_READERS)


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
