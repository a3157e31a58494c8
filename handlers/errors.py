"""The exception tree: every refusal the library can give, typed once.

``AuthError`` subclasses carry a stable machine ``code`` and a short English
``message``. They never hold the token, the secret or the password.
Configuration problems are ``ValueError``/``TypeError`` at construction,
never an ``AuthError``.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "UnauthorizedError",
    "CredentialsRequiredError",
    "CredentialsBadFormatError",
    "TokenInvalidError",
    "TokenExpiredError",
    "TokenRevokedError",
    "TokenMismatchError",
    "AlreadyAuthenticatedError",
    "SessionExpiredError",
    "ForbiddenError",
    "TooManyConnectionsError",
    "InvalidCredentialsError",
    "BadRequestError",
    "TooManyAttemptsError",
    "RevocationNotPersistedError",
    "refusal_data",
]

REFUSAL_TYPE = "UnauthorizedError"


class AuthError(Exception):
    """Base of every authentication refusal.

    :param message: a fixed English sentence; the class default when omitted.
    """

    code: str = "auth_error"
    message: str = "Authentication failed."
    status: int = 401

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)


class UnauthorizedError(AuthError):
    """A Socket.IO handshake, ``authenticate``, ``refresh`` or event refusal.

    Its wire form is :func:`refusal_data`.
    """

    code = "unauthorized"
    message = "Unauthorized."
    type = REFUSAL_TYPE


class CredentialsRequiredError(UnauthorizedError):
    """No token in any of the configured sources (``auth``, query, header)."""

    code = "credentials_required"
    message = "No authorization token was found."


class CredentialsBadFormatError(UnauthorizedError):
    """A token that is not a string, is empty, or an ``Authorization`` header
    that is not ``Bearer <token>``."""

    code = "credentials_bad_format"
    message = (
        "The token is not in a valid format (expected a string or 'Bearer <token>')."
    )


class TokenInvalidError(UnauthorizedError):
    """A token that does not verify: signature, algorithm, ``kid``, issuer,
    audience, a missing required claim, not yet valid, too large, not a JWT."""

    code = "invalid_token"
    message = "The token is invalid."


class TokenExpiredError(TokenInvalidError):
    """A token past its ``exp`` (plus the configured leeway)."""

    code = "token_expired"
    message = "The token has expired."


class TokenRevokedError(TokenInvalidError):
    """A token whose ``jti`` (or its user, since a cut-off) was revoked by a logout."""

    code = "token_revoked"
    message = "The token has been revoked."


class TokenMismatchError(UnauthorizedError):
    """``refresh`` was given a valid token that cannot replace the socket's:
    another user's, or one issued earlier (see ``credentials.is_successor``)."""

    code = "token_mismatch"
    message = "The token is not a newer token for the same user."


class AlreadyAuthenticatedError(UnauthorizedError):
    """A second ``authenticate`` on a socket (use ``refresh`` to change tokens)."""

    code = "already_authenticated"
    message = "The socket is already authenticated."


class SessionExpiredError(AuthError):
    """HTTP 401 at ``/token/refresh``: the login is older than ``max_session_age``."""

    code = "session_expired"
    message = "The session is too old to refresh; sign in again."


class ForbiddenError(UnauthorizedError):
    """The token is valid but does not grant what was asked for."""

    code = "forbidden"
    message = "The token does not grant access to this resource."
    status = 403


class TooManyConnectionsError(UnauthorizedError):
    """A per-user or per-address connection limit is reached."""

    code = "too_many_connections"
    message = "Too many connections; close one and try again."
    status = 429


class InvalidCredentialsError(AuthError):
    """HTTP 401 at login: unknown user and wrong password look the same."""

    code = "invalid_credentials"
    message = "Invalid username or password."


class BadRequestError(AuthError):
    """HTTP 400: a login, logout or refresh request whose body cannot be read."""

    code = "bad_request"
    message = "The request is malformed."
    status = 400


class TooManyAttemptsError(AuthError):
    """HTTP 429 with ``Retry-After``.

    :param retry_after: whole seconds until the next attempt may succeed.
    """

    code = "too_many_attempts"
    message = "Too many failed attempts; try again later."
    status = 429

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class RevocationNotPersistedError(AuthError):
    """HTTP 503 at ``/logout``: revoked on this server, but not saved, so a
    restart would forget it. Sending the same request again finishes it."""

    code = "revocation_not_persisted"
    message = (
        "The logout is in effect but could not be saved; send the same request again."
    )
    status = 503
    retry_after = 1


def refusal_data(err: AuthError) -> dict[str, str]:
    """What a socket is told of a refusal, wherever it happens (``connect_error``
    data, the events that cut it, ``unauthorized``, a failed ack):
    ``{"message", "code", "type": "UnauthorizedError"}``, auth0 socketio-jwt's
    ``data`` shape. HTTP answers keep ``{"error", "message"}``."""
    return {"message": err.message, "code": err.code, "type": REFUSAL_TYPE}
