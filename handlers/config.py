"""``AuthSettings``: every knob of the library in one frozen, validated object."""

from __future__ import annotations

from dataclasses import dataclass, field

from .origins import engineio_origins, normalize_origins

__all__ = ["AuthSettings", "DEFAULT_ISSUER", "TOKEN_SOURCES", "AUTH_FLOWS"]

DEFAULT_ISSUER = "tornado-socketio-jwt"
TOKEN_SOURCES = ("auth", "query", "header")
AUTH_FLOWS = ("handshake", "event")
SYMMETRIC_PREFIX = "HS"
MIN_SECRET_BYTES = 32
POSITIVE_FIELDS = [
    "token_ttl",
    "auth_timeout",
    "max_login_body",
    "login_window",
    "max_session_age",
    "max_token_bytes",
    "login_concurrency",
    "refresh_max_per_user",
    "logout_max_per_user",
    "bearer_window",
    "recovery_max_missed_packets",
    "recovery_max_missed_bytes",
    "recovery_buffer_packets",
    "recovery_buffer_bytes",
    "recovery_max_sessions",
]
SUPPORTED_ALGORITHMS = frozenset(
    {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "PS256"}
)


@dataclass(frozen=True)
class AuthSettings:
    """Configuration of token issue and verification.

    :param algorithms: the accepted signature algorithms, pinned; the token
                       header never chooses. Required, never empty. Default
                       ``("HS256",)``.
    :param secret: the HMAC secret (``str`` as its UTF-8 bytes, or ``bytes``),
                   at least 32 bytes. Required for HS* unless a key source
                   is given to :func:`attach_jwt_auth`.
    :param issuer: the ``iss`` claim written and required; ``None`` disables
                   the check. Default ``"tornado-socketio-jwt"``.
    :param audience: the ``aud`` claim written and required, or ``None``
                     (a token that carries an ``aud`` is refused).
    :param token_ttl: lifetime of issued tokens in seconds. Default 5 hours.
    :param leeway: clock skew tolerated on ``exp``/``iat``/``nbf``, seconds.
    :param required_claims: claims a token must carry. Default ``exp``,
                            ``iat``, ``sub``, ``jti``. Tokens from an
                            external issuer often have no ``jti``: require
                            ``("exp", "iat", "sub")`` for them.
    :param token_sources: where the handshake looks for the token, in order:
                          any of ``"auth"``, ``"query"``, ``"header"``.
    :param auth_flow: ``"handshake"`` (token in the connect request) or
                      ``"event"`` (socketio-jwt's ``authenticate`` event).
    :param auth_timeout: seconds a socket has to authenticate in the event flow.
    :param cors_allowed_origins: origins allowed to open sockets; ``None``
                                 means the server's own origin only. Each
                                 is normalised (``https://A.example/`` is
                                 ``https://a.example``); ``"*"`` means any.
    :param static_dir: directory of the browser client; ``None`` finds the
                       bundled one.
    :param max_login_body: byte limit of a login/logout request body (413 past it).
    :param login_max_failures: failed logins allowed per user and per address
                               within ``login_window`` before 429.
    :param login_window: seconds over which failures are counted.
    :param max_session_age: seconds after the original login (claim
                            ``auth_time``, else ``iat``) past which
                            ``/token/refresh`` refuses with ``session_expired``.
                            Default 7 days.
    :param login_concurrency: password checks run at once by ``/login``
                              (match the user store's hashing threads).
    :param login_queue: checks waiting beyond those; past it ``/login``
                        answers 429 at once instead of queueing without end.
                        Default 8: with argon2id's default profile on two
                        cores, a queued login waits about 3 s at most.
    :param refresh_max_per_user: ``/token/refresh`` calls per user (``sub``)
                                 within ``bearer_window``; 429 past it.
    :param logout_max_per_user: ``/logout`` calls per user within
                                ``bearer_window``; 429 past it.
    :param bearer_window: seconds over which those are counted. Default 60.
    :param max_token_bytes: the largest token accepted, checked before any
                            decoding (``invalid_token`` past it). Default 8 KiB.
    :param recovery: connection state recovery (socket.io 4.6+): a client
                     that lost its transport gets its socket back (same sid,
                     rooms, session data) and the events it missed, after its
                     token is verified again. Off by default for embedders: it
                     appends an offset argument to every event sent without an
                     ack, which clients other than socket.io-client 4.6+ see.
                     Handshake flow only. The standalone server turns it on.
    :param max_disconnection_duration: seconds a disconnected socket stays
                                       recoverable; 0 turns recovery off.
                                       Default 120, as Node's.
    :param recovery_max_missed_packets: events one recovery may replay, and
    :param recovery_max_missed_bytes: their estimated size; more: a fresh
                                      session. Default 1,000 and 1 MiB.
    :param recovery_buffer_packets: events kept for replay in all, and
    :param recovery_buffer_bytes: their estimated size; the oldest fall out.
                                  Default 50,000 and 32 MiB.
    :param recovery_max_sessions: disconnected sockets kept recoverable at
                                  once; the oldest go first. Default 10,000.

    .. warning::
       ``cors_allowed_origins="*"`` lets any web page open authenticated
       sockets with tokens it holds; list the origins you trust instead.
    """

    algorithms: tuple[str, ...] = ("HS256",)
    secret: str | bytes | None = field(default=None, repr=False)
    issuer: str | None = DEFAULT_ISSUER
    audience: str | None = None
    token_ttl: int = 5 * 3600
    leeway: float = 0
    required_claims: tuple[str, ...] = ("exp", "iat", "sub", "jti")
    token_sources: tuple[str, ...] = TOKEN_SOURCES
    auth_flow: str = "handshake"
    auth_timeout: float = 5.0
    cors_allowed_origins: tuple[str, ...] | None = None
    static_dir: str | None = None
    max_login_body: int = 4096
    login_max_failures: int = 5
    login_window: int = 300
    max_session_age: int = 7 * 24 * 3600
    max_token_bytes: int = 8192
    login_concurrency: int = 2
    login_queue: int = 8
    refresh_max_per_user: int = 10
    logout_max_per_user: int = 10
    bearer_window: int = 60
    recovery: bool = False
    max_disconnection_duration: float = 120.0
    recovery_max_missed_packets: int = 1000
    recovery_max_missed_bytes: int = 1 << 20
    recovery_buffer_packets: int = 50_000
    recovery_buffer_bytes: int = 32 << 20
    recovery_max_sessions: int = 10_000

    def __post_init__(self) -> None:
        self._check_algorithms()
        self._check_origins()
        self._check_secret()
        self._check_claims()
        self._check_choices()
        self._check_numbers()

    @property
    def socketio_cors_allowed_origins(self) -> str | list[str] | None:
        """``cors_allowed_origins`` in the form ``socketio.AsyncServer`` takes."""
        return engineio_origins(self.cors_allowed_origins)

    @property
    def secret_bytes(self) -> bytes | None:
        """The secret as bytes (UTF-8 for a ``str``), or ``None``."""
        if isinstance(self.secret, str):
            return self.secret.encode("utf-8")
        return self.secret

    @property
    def recovers(self) -> bool:
        """Whether connection state recovery is on (it needs the handshake flow)."""
        return (
            self.recovery
            and self.max_disconnection_duration > 0
            and self.auth_flow == "handshake"
        )

    @property
    def symmetric(self) -> bool:
        return all(a.startswith(SYMMETRIC_PREFIX) for a in self.algorithms)

    def _check_algorithms(self) -> None:
        if isinstance(self.algorithms, str) or not isinstance(self.algorithms, tuple):
            raise TypeError("algorithms must be a tuple of algorithm names")
        if not self.algorithms:
            raise ValueError("algorithms must not be empty")
        unknown = [a for a in self.algorithms if a not in SUPPORTED_ALGORITHMS]
        if unknown:
            raise ValueError(f"unsupported algorithms: {', '.join(unknown)}")
        kinds = {a.startswith(SYMMETRIC_PREFIX) for a in self.algorithms}
        if len(kinds) > 1:
            raise ValueError("do not mix HS* with public-key algorithms")

    def _check_secret(self) -> None:
        if self.secret is None:
            return
        if not isinstance(self.secret, (str, bytes)):
            raise TypeError("secret must be str or bytes")
        if not self.symmetric:
            raise ValueError("a shared secret needs HS* algorithms")
        # PyJWT's key-length rule: an HMAC key at least as long as the hash.
        needed = max(max(MIN_SECRET_BYTES, int(a[2:]) // 8) for a in self.algorithms)
        if len(self.secret_bytes or b"") < needed:
            raise ValueError(f"secret must be at least {needed} bytes")

    def _check_origins(self) -> None:
        origins = self.cors_allowed_origins
        if origins is None:
            return
        if not isinstance(origins, tuple) or not all(
            isinstance(o, str) for o in origins
        ):
            raise TypeError("cors_allowed_origins must be a tuple of strings or None")
        # Normalised once: a trailing slash or an upper-case host never matches.
        object.__setattr__(self, "cors_allowed_origins", normalize_origins(origins))

    def _check_claims(self) -> None:
        for name in ("issuer", "audience"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise TypeError(f"{name} must be a non-empty string or None")
        claims = self.required_claims
        if not isinstance(claims, tuple) or not all(
            isinstance(c, str) and c for c in claims
        ):
            raise TypeError("required_claims must be a tuple of claim names")
        if "sub" not in claims:
            raise ValueError(
                "required_claims must include sub (sockets are tied to a user)"
            )

    def _check_choices(self) -> None:
        if not self.token_sources:
            raise ValueError("token_sources must not be empty")
        unknown = [s for s in self.token_sources if s not in TOKEN_SOURCES]
        if unknown:
            raise ValueError(f"unknown token sources: {', '.join(unknown)}")
        if self.auth_flow not in AUTH_FLOWS:
            raise ValueError(f"auth_flow must be one of {', '.join(AUTH_FLOWS)}")

    def _check_numbers(self) -> None:
        for name in POSITIVE_FIELDS:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.max_disconnection_duration < 0:
            raise ValueError("max_disconnection_duration must not be negative")
        if self.leeway < 0:
            raise ValueError("leeway must not be negative")
        if self.login_queue < 0:
            raise ValueError("login_queue must not be negative")
        if self.login_max_failures < 1:
            raise ValueError("login_max_failures must be at least 1")
