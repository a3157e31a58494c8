"""Issue and verify JWTs. Pure functions over PyJWT: no Tornado, no I/O.

Every PyJWT failure is mapped to the library's error tree here, and only here.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Mapping
from typing import Any

import jwt

from .config import AuthSettings
from .credentials import check_token_size, session_started
from .errors import (
    CredentialsBadFormatError,
    SessionExpiredError,
    TokenExpiredError,
    TokenInvalidError,
)
from .keys.base import KeySource, signing_algorithm

__all__ = [
    "issue_token",
    "verify_token",
    "reissue_token",
    "read_header",
    "expires_at",
    "is_expired",
]

log = logging.getLogger("tornado_socketio_jwt")

# Each claim-policy refusal names the failed check. A malformed token, an
# unsigned one and a bad signature say what Node's jsonwebtoken says (what
# socketio-jwt's clients match on); a refused alg keeps "The token is invalid."
# Order matters: InvalidSignatureError is a DecodeError.
MALFORMED = "jwt malformed"
SIGNATURE_REQUIRED = "jwt signature is required"
REFUSALS: tuple[tuple[type[jwt.InvalidTokenError], str], ...] = (
    (jwt.InvalidAudienceError, "The token's audience (aud) is not accepted."),
    (jwt.InvalidIssuerError, "The token's issuer (iss) is not accepted."),
    (jwt.ImmatureSignatureError, "The token is not valid yet (nbf/iat)."),
    (jwt.InvalidIssuedAtError, "The token's issue time (iat) is invalid."),
    (jwt.InvalidSignatureError, "invalid signature"),
    (jwt.DecodeError, MALFORMED),
)
UNVERIFIABLE = "The token cannot be verified right now."
AUTH_TIME = "auth_time"
# NumericDates are written as whole seconds: most verifiers type them as integers.
DATE_CLAIMS = ("iat", "exp", "nbf", AUTH_TIME)
# Set afresh by issue_token (or by the issuer's settings), never carried over.
REGISTERED_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti"})


def issue_token(
    settings: AuthSettings,
    keys: KeySource,
    sub: str,
    claims: Mapping[str, Any] | None = None,
    *,
    now: float | None = None,
    ttl: int | None = None,
) -> tuple[str, dict[str, Any]]:
    """Sign a new token for ``sub``.

    :param claims: extra claims (profile fields, ``auth_time``, ...); the
                   registered ones below always win.
    :param now: the issue time in epoch seconds; default the current time.
                Written as whole seconds (rounded down), like every date.
    :param ttl: lifetime in seconds; default ``settings.token_ttl``.
    :return: ``(token, payload)``.
    """
    issued_at = math.floor(time.time() if now is None else now)
    payload = _whole_dates(claims or {})
    payload.update(
        sub=str(sub),
        iat=issued_at,
        exp=issued_at + (settings.token_ttl if ttl is None else ttl),
        jti=uuid.uuid4().hex,
    )
    if settings.issuer is not None:
        payload["iss"] = settings.issuer
    if settings.audience is not None:
        payload["aud"] = settings.audience
    key, kid = keys.signing_key()
    headers = {"kid": kid} if kid is not None else None
    algorithm = signing_algorithm(keys, settings.algorithms[0])
    token = jwt.encode(payload, key, algorithm=algorithm, headers=headers)
    return token, payload


def _whole_dates(claims: Mapping[str, Any]) -> dict[str, Any]:
    payload = dict(claims)
    for name in DATE_CLAIMS:
        value = payload.get(name)
        if isinstance(value, float) and math.isfinite(value):
            payload[name] = math.floor(value)
    return payload


def read_header(token: str, max_bytes: int | None = None) -> dict[str, Any]:
    """The unverified header, for key selection only.

    :param max_bytes: refuse a longer token before decoding anything (pass
                      ``settings.max_token_bytes``); default no check.
    :raises TokenInvalidError: when the token is not a well-formed JWS, or
                               is over ``max_bytes``.
    """
    if max_bytes is not None:
        check_token_size(token, max_bytes)
    segments = token.split(".")
    if len(segments) != 3:
        raise TokenInvalidError(MALFORMED)
    if not segments[2]:
        raise TokenInvalidError(SIGNATURE_REQUIRED)  # alg "none", or cut off
    try:
        return jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise TokenInvalidError(MALFORMED) from exc


def verify_token(
    token: object,
    settings: AuthSettings,
    keys: KeySource,
    *,
    header: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Verify ``token`` and return its claims.

    The algorithm list comes from ``settings``, never from the token header.

    :param header: the token's unverified header when the caller already
                   read it with :func:`read_header` and the size limit (to
                   prepare the key source); read here otherwise.
    :raises CredentialsBadFormatError: ``token`` is not a non-empty string.
    :raises TokenInvalidError: over ``settings.max_token_bytes``, checked
                               before anything is decoded.
    :raises TokenExpiredError: past :func:`expires_at`.
    :raises TokenInvalidError: any other reason the token is not acceptable.
    """
    if not isinstance(token, str) or not token:
        raise CredentialsBadFormatError()
    try:
        if header is None:
            header = read_header(token, settings.max_token_bytes)
        key = keys.verification_key(header)
        return jwt.decode(
            token,
            key,
            algorithms=list(settings.algorithms),
            issuer=settings.issuer,
            audience=settings.audience,
            # PyJWT's expiry check is expires_at's rule: refused once
            # int(exp) <= now - leeway.
            leeway=settings.leeway,
            # verify_aud stays on: with no audience configured, a token that
            # carries one (meant for another service) is refused.
            options={"require": list(settings.required_claims), "verify_aud": True},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpiredError() from exc
    except jwt.InvalidTokenError as exc:
        raise TokenInvalidError(_reason(exc)) from exc
    except (jwt.InvalidKeyError, jwt.PyJWKClientError) as exc:
        # A bad key or an unreachable key server is this server's fault, never
        # the client's: log it, and refuse without blaming the token.
        log.error("verification key unusable: %s", exc)
        raise TokenInvalidError(UNVERIFIABLE) from exc


def expires_at(claims: Mapping[str, Any], leeway: float) -> float:
    """The instant verified ``claims`` stop being accepted: ``exp`` plus
    ``leeway``, as PyJWT reads it (whole seconds); ``math.inf`` without ``exp``.

    The one expiry rule: verification (through PyJWT, given the same leeway),
    the expiry timer of a live socket, and how long a revocation is kept.
    """
    exp = claims.get("exp")
    return math.inf if exp is None else int(exp) + leeway


def is_expired(claims: Mapping[str, Any], leeway: float, now: float) -> bool:
    """Whether verified ``claims`` are past :func:`expires_at` at ``now``."""
    return now >= expires_at(claims, leeway)


def _reason(exc: jwt.InvalidTokenError) -> str | None:
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"The token lacks the required claim '{exc.claim}'."
    for cls, message in REFUSALS:
        if isinstance(exc, cls):
            return message
    return None


def reissue_token(
    settings: AuthSettings, keys: KeySource, claims: Mapping[str, Any], now: float
) -> tuple[str, dict[str, Any]]:
    """A new token (new ``jti``) carrying every claim of ``claims`` but the
    registered ones (``sub``'s profile, roles, scopes, ``auth_time``...).

    Its lifetime is ``token_ttl``, cut short so that it never outlives the
    session: ``auth_time`` (else ``iat``) plus ``max_session_age``.

    :raises SessionExpiredError: the session is already that old.
    """
    started = session_started(claims)
    if started is None:
        raise SessionExpiredError()
    remaining = math.floor(started + settings.max_session_age - now)
    if remaining < 1:
        raise SessionExpiredError()
    profile = {k: v for k, v in claims.items() if k not in REGISTERED_CLAIMS}
    profile[AUTH_TIME] = int(started)
    ttl = min(settings.token_ttl, remaining)
    return issue_token(settings, keys, str(claims["sub"]), profile, now=now, ttl=ttl)
