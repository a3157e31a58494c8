"""``AuthSettings``: everything that changes the library's behaviour, validated once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..origins import engineio_origins
from .checks import (
    AUTH_FLOWS,
    EVENTS,
    ROUTES,
    SYMMETRIC_PREFIX,
    TOKEN_SOURCES,
    check_algorithms,
    check_choices,
    check_names,
    check_networks,
    check_prefix,
    check_secret,
    names_tuple,
    normalized_origins,
)
from .errors import SettingError
from .groups import NamespacePolicy, PolicyTable, SocketLimits, StateRecovery, Transport

__all__ = ["AuthSettings", "DEFAULT_ISSUER"]

DEFAULT_ISSUER = "tornado-socketio-jwt"
POSITIVE_FIELDS = (
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
)
NAME_LISTS = ("routes", "namespaces", "events", "exempt_namespaces", "metrics_allowed")


@dataclass(frozen=True)
class AuthSettings:
    """Everything that changes what :func:`attach_jwt_auth` installs and serves.

    Tokens:

    :param algorithms: accepted signature algorithms, pinned (the token header
                       never chooses); never empty. Default ``("HS256",)``.
    :param secret: the HMAC secret (``str`` as UTF-8, or ``bytes``), at least
                   32 bytes; required for HS* unless ``keys=`` is given.
    :param issuer: ``iss`` written and required; ``None``: not checked.
                   Default ``"tornado-socketio-jwt"``.
    :param audience: ``aud`` written and required; ``None`` (default): a token
                     that carries an ``aud`` is refused.
    :param token_ttl: lifetime of issued tokens, seconds. Default 5 hours.
    :param leeway: clock skew tolerated on ``exp``/``iat``/``nbf``, seconds.
    :param required_claims: claims a token must carry. Default ``exp``,
                            ``iat``, ``sub``, ``jti`` (external issuers often
                            write no ``jti``: ``("exp", "iat", "sub")``).
    :param max_token_bytes: largest token accepted, before any decoding
                            (``invalid_token`` past it). Default 8 KiB.
    :param max_session_age: seconds after the login (``auth_time``, else
                            ``iat``) past which ``/token/refresh`` answers
                            ``session_expired``. Default 7 days.

    Sockets:

    :param token_sources: where the handshake looks for the token, in order:
                          ``"auth"``, ``"query"``, ``"header"`` (default all).
    :param auth_flow: ``"handshake"`` (default: the token in the connect
                      request) or ``"event"`` (socketio-jwt's ``authenticate``).
    :param auth_timeout: seconds to authenticate in the event flow. Default 5.
    :param namespace_policies: namespace -> :class:`NamespacePolicy` (or its
                               flow name, ``"handshake"``, ``"event"``,
                               ``"public"``): how that namespace admits
                               sockets; one server may mix all three.
                               Every namespace not named follows
                               ``auth_flow``. Public ones are logged as a
                               warning at start-up. Default none.
    :param unauthorized_ack_timeout: in the event flow, how long a refused
                                     socket is kept after ``unauthorized``,
                                     waiting for the client's ack
                                     (socketio-jwt's ``callback``): it is
                                     disconnected on the ack or after this
                                     many seconds; ``0``: at once. Default 5.
    :param cors_allowed_origins: origins allowed to open sockets, normalised
                                 (``https://A.example/`` is
                                 ``https://a.example``); ``"*"``: any;
                                 ``None`` (default): the server's own only.
    :param limits: per-client :class:`SocketLimits` (connections per user and
                   per address, the CONNECT timeout, attachments).
    :param transport: the :class:`Transport` (ping interval and timeout,
                      WebSocket compression).
    :param recovery: :class:`StateRecovery`, connection state recovery and
                     its bounds (off by default for embedders; handshake flow
                     only).

    What is served:

    :param routes: which routes :func:`attach_jwt_auth` returns, of
                   ``"socketio"``, ``"login"``, ``"logout"``, ``"refresh"``,
                   ``"client"``, ``"health"``, ``"jwks"`` (default all).
    :param prefix: a path prefix for every route, e.g. ``"/chat"``.
    :param namespaces: where the built-in ``events`` are registered; default
                       ``("/",)``. Every namespace is gated, listed or not.
    :param events: built-in events: ``"whoami"`` (default) and the demo chat
                   ``"message"``.
    :param exempt_namespaces: namespaces that authenticate their own sockets,
                              e.g. ``("/admin",)`` for python-socketio's Admin
                              UI: a shorthand for a ``"public"`` entry of
                              ``namespace_policies``. Default none.
    :param static_dir: directory of the browser client; ``None``: the bundled one.
    :param metrics_allowed: networks (CIDR) that may read ``GET /metrics``;
                            empty (default): no ``/metrics`` route.

    HTTP limits (``/login``, ``/logout``, ``/token/refresh``):

    :param max_login_body: bytes of a login/logout body (413 past it). 4096.
    :param login_max_failures: failed logins per user and per address within
                               ``login_window`` before 429. Default 5.
    :param login_window: seconds over which failures count. Default 300.
    :param login_concurrency: password checks at once (match the user store's
                              hashing threads). Default 2.
    :param login_queue: checks waiting beyond those; past it 429 at once.
                        Default 8 (with argon2id on two cores, about 3 s).
    :param refresh_max_per_user: refreshes per ``sub`` within
                                 ``bearer_window``; 429 past it. Default 10.
    :param logout_max_per_user: logouts per ``sub`` within ``bearer_window``.
    :param bearer_window: seconds over which those count. Default 60.

    :raises ValueError: (:class:`SettingError`, naming the field) a value refused.
    :raises TypeError: a value of the wrong type.

    .. warning::
       ``cors_allowed_origins="*"`` lets any web page open authenticated
       sockets with tokens it holds, and an exempt namespace admits whoever
       its own ``connect`` handler admits.
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
    namespace_policies: Mapping[str, NamespacePolicy | str] = field(
        default_factory=lambda: PolicyTable({})
    )
    unauthorized_ack_timeout: float = 5.0
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
    limits: SocketLimits = field(default_factory=SocketLimits)
    transport: Transport = field(default_factory=Transport)
    recovery: StateRecovery = field(default_factory=StateRecovery)
    routes: tuple[str, ...] = ROUTES
    prefix: str = ""
    namespaces: tuple[str, ...] = ("/",)
    events: tuple[str, ...] = ("whoami",)
    exempt_namespaces: tuple[str, ...] = ()
    metrics_allowed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_algorithms(self.algorithms)
        origins = normalized_origins(self.cors_allowed_origins)
        object.__setattr__(self, "cors_allowed_origins", origins)
        check_secret(self.secret, self.secret_bytes or b"", self.algorithms)
        self._check_claims()
        self._check_serving()
        self._check_numbers()
        self._check_groups()

    @property
    def socketio_cors_allowed_origins(self) -> str | list[str] | None:
        """``cors_allowed_origins`` in the form ``socketio.AsyncServer`` takes."""
        return engineio_origins(self.cors_allowed_origins)

    def policy_for(self, namespace: str) -> NamespacePolicy:
        """How ``namespace`` admits sockets: its entry in
        ``namespace_policies``, ``"public"`` when in ``exempt_namespaces``,
        else ``auth_flow`` (fail closed: never public by default)."""
        policy = self.namespace_policies.get(namespace)
        if isinstance(policy, NamespacePolicy):  # always, once constructed
            return policy
        if namespace in self.exempt_namespaces:
            return NamespacePolicy("public")
        return NamespacePolicy(self.auth_flow)

    def auth_timeout_for(self, namespace: str) -> float:
        """Seconds a socket of ``namespace`` has to send ``authenticate``."""
        return self.policy_for(namespace).auth_timeout or self.auth_timeout

    @property
    def public_namespaces(self) -> tuple[str, ...]:
        """The namespaces with no JWT authentication, named explicitly."""
        named = (*self.exempt_namespaces, *self.namespace_policies)
        return tuple(
            ns for ns in dict.fromkeys(named) if self.policy_for(ns).flow == "public"
        )

    @property
    def secret_bytes(self) -> bytes | None:
        """The secret as bytes (UTF-8 for a ``str``), or ``None``."""
        if isinstance(self.secret, str):
            return self.secret.encode("utf-8")
        return self.secret

    @property
    def recovers(self) -> bool:
        """Whether connection state recovery is on: enabled, and some namespace
        authenticates with the handshake flow (the only one that recovers)."""
        return self.recovery.on and (
            self.auth_flow == "handshake"
            or any(
                self.policy_for(ns).flow == "handshake"
                for ns in self.namespace_policies
            )
        )

    @property
    def symmetric(self) -> bool:
        """Whether the algorithms are HMAC ones (HS*)."""
        return all(a.startswith(SYMMETRIC_PREFIX) for a in self.algorithms)

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
            raise SettingError(
                "required_claims", "must include sub (sockets are tied to a user)"
            )

    def _check_serving(self) -> None:
        if not self.token_sources:
            raise SettingError("token_sources", "must not be empty")
        check_choices("token_sources", self.token_sources, TOKEN_SOURCES)
        if self.auth_flow not in AUTH_FLOWS:
            raise SettingError("auth_flow", f"must be one of {', '.join(AUTH_FLOWS)}")
        for name in NAME_LISTS:  # lists and sets are taken, kept as tuples
            object.__setattr__(self, name, names_tuple(name, getattr(self, name)))
        check_choices("routes", self.routes, ROUTES)
        check_choices("events", self.events, EVENTS)
        check_names("namespaces", self.namespaces)
        check_names("exempt_namespaces", self.exempt_namespaces)
        check_prefix(self.prefix)
        check_networks("metrics_allowed", self.metrics_allowed)
        policies = _policies(self.namespace_policies)
        object.__setattr__(self, "namespace_policies", policies)
        for namespace in self.exempt_namespaces:
            if self.policy_for(namespace).flow != "public":
                raise SettingError(
                    "exempt_namespaces",
                    f"{namespace} is also in namespace_policies, not as public",
                )

    def _check_numbers(self) -> None:
        for name in POSITIVE_FIELDS:
            if getattr(self, name) <= 0:
                raise SettingError(name, "must be positive")
        if self.leeway < 0:
            raise SettingError("leeway", "must not be negative")
        if not self.unauthorized_ack_timeout >= 0:
            raise SettingError("unauthorized_ack_timeout", "must not be negative")
        if self.login_queue < 0:
            raise SettingError("login_queue", "must not be negative")
        if self.login_max_failures < 1:
            raise SettingError("login_max_failures", "must be at least 1")

    def _check_groups(self) -> None:
        if not isinstance(self.limits, SocketLimits):
            raise TypeError("limits must be a SocketLimits")
        if not isinstance(self.transport, Transport):
            raise TypeError("transport must be a Transport")
        if not isinstance(self.recovery, StateRecovery):
            raise TypeError("recovery must be a StateRecovery")


def _policies(given: Any) -> Mapping[str, NamespacePolicy]:
    """``namespace_policies`` checked, flow names made policies, read-only."""
    if not isinstance(given, Mapping):
        raise TypeError("namespace_policies must be a mapping of namespace to policy")
    policies: dict[str, NamespacePolicy] = {}
    for namespace, policy in given.items():
        if not isinstance(namespace, str) or not namespace.startswith("/"):
            raise SettingError(
                "namespace_policies", f"must start with '/': {namespace!r}"
            )
        if isinstance(policy, str):
            policy = NamespacePolicy(policy)
        if not isinstance(policy, NamespacePolicy):
            raise TypeError("namespace_policies values must be NamespacePolicy")
        policies[namespace] = policy
    return PolicyTable(policies)
