"""Authorization rules: which verified tokens may join a namespace or run an event.

Scopes come from ``scope`` (OAuth: a space-separated string) and from ``scp``
or ``permissions`` (lists, as in Auth0 RBAC); roles from a configurable claim.
A refused namespace gets ``connect_error`` code ``forbidden``; a refused event
gets the ack ``{"error": "forbidden"}`` and its handler never runs.
"""

from __future__ import annotations

import functools
import inspect
import logging
import weakref
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Mapping

from .errors import ForbiddenError
from .sessions import current_user

__all__ = [
    "Requirement",
    "authorize_namespace",
    "authorize_event",
    "requires",
    "check_namespace",
    "scopes_of",
    "roles_of",
    "FORBIDDEN_ACK",
]

log = logging.getLogger("tornado_socketio_jwt")

SCOPE_CLAIMS = ("scope", "scp", "permissions")
DEFAULT_ROLES_CLAIM = "roles"
FORBIDDEN_ACK = {"error": ForbiddenError.code}
Handler = Callable[..., Any]

_namespace_rules: "weakref.WeakKeyDictionary[Any, dict[str, Requirement]]" = (
    weakref.WeakKeyDictionary()
)


def _names(value: object) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, (list, tuple)):
        return frozenset(item for item in value if isinstance(item, str))
    return frozenset()


def scopes_of(claims: Mapping[str, Any]) -> frozenset[str]:
    """Every scope the claims grant, from ``scope``, ``scp`` and ``permissions``."""
    return frozenset().union(*(_names(claims.get(name)) for name in SCOPE_CLAIMS))


def roles_of(claims: Mapping[str, Any], claim: str = DEFAULT_ROLES_CLAIM) -> frozenset[str]:
    """The roles in ``claim`` (a list, or a space-separated string)."""
    return _names(claims.get(claim))


@dataclass(frozen=True)
class Requirement:
    """What a token must grant.

    :param scopes: scopes the token must *all* have. Default none.
    :param roles: roles of which the token must have *at least one*.
                  Default none (no role needed).
    :param roles_claim: the claim that lists roles; default ``"roles"``.
                        Auth0 puts them in a namespaced custom claim, e.g.
                        ``"https://example.com/roles"``.
    """

    scopes: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    roles_claim: str = DEFAULT_ROLES_CLAIM

    def __post_init__(self) -> None:
        for name in ("scopes", "roles"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
                raise TypeError(f"{name} must be a tuple of strings")

    def allows(self, claims: Mapping[str, Any] | None) -> bool:
        """Whether verified ``claims`` meet the requirement (``None``: never)."""
        if claims is None:
            return False
        if not set(self.scopes) <= scopes_of(claims):
            return False
        return not self.roles or bool(set(self.roles) & roles_of(claims, self.roles_claim))

    def check(self, claims: Mapping[str, Any] | None) -> None:
        """:raises ForbiddenError: when the claims do not meet the requirement."""
        if not self.allows(claims):
            raise ForbiddenError()


def _requirement(
    requirement: Requirement | None, scopes: tuple[str, ...], roles: tuple[str, ...]
) -> Requirement:
    if requirement is not None and (scopes or roles):
        raise TypeError("pass a Requirement or scopes/roles, not both")
    return requirement or Requirement(tuple(scopes), tuple(roles))


def authorize_namespace(
    sio: Any, namespace: str, requirement: Requirement | None = None, *,
    scopes: tuple[str, ...] = (), roles: tuple[str, ...] = (),
) -> None:
    """Let only tokens meeting a requirement join ``namespace``.

    Others are refused at the handshake with ``connect_error`` data
    ``{"code": "forbidden", "type": "UnauthorizedError"}``. Works for gated
    decorator-style namespaces and for :class:`AuthNamespace` alike; may be
    called before or after :func:`attach_jwt_auth`.
    """
    rules = _namespace_rules.setdefault(sio, {})
    rules[namespace] = _requirement(requirement, scopes, roles)


def check_namespace(
    sio: Any, namespace: str, claims: Mapping[str, Any], extra: Requirement | None = None
) -> None:
    """Apply the namespace's registered requirement, then ``extra``.

    :raises ForbiddenError: when one is not met.
    """
    for rule in (_namespace_rules.get(sio, {}).get(namespace), extra):
        if rule is not None:
            rule.check(claims)


def authorize_event(
    sio: Any, event: str, handler: Handler | None = None, *, namespace: str = "/",
    requirement: Requirement | None = None,
    scopes: tuple[str, ...] = (), roles: tuple[str, ...] = (),
) -> Any:
    """Register ``handler`` for ``event``, run only for sockets whose token
    meets the requirement; others get the ack ``{"error": "forbidden"}``.

    Used like ``sio.on``: with ``handler``, or as a decorator without it::

        @authorize_event(sio, "delete", scopes=("messages:delete",))
        async def delete(sid, data): ...
    """
    rule = _requirement(requirement, scopes, roles)

    def register(fn: Handler) -> Handler:
        async def claims_of(sid: str) -> dict[str, Any] | None:
            return await current_user(sio, sid, namespace)

        sio.on(event, _guard(fn, rule, event, claims_of), namespace=namespace)
        return fn

    return register(handler) if handler is not None else register


def requires(
    requirement: Requirement | None = None, *,
    scopes: tuple[str, ...] = (), roles: tuple[str, ...] = (),
) -> Callable[[Handler], Handler]:
    """Decorate an ``on_<event>`` method of a class-based namespace
    (``socketio.AsyncNamespace`` or :class:`AuthNamespace`) so that it runs
    only for sockets whose token meets the requirement."""
    rule = _requirement(requirement, scopes, roles)

    def decorate(method: Handler) -> Handler:
        @functools.wraps(method)
        async def guarded(self: Any, sid: str, *args: Any) -> Any:
            claims = await current_user(self.server, sid, self.namespace)
            if not _allowed(rule, claims, sid, method.__name__):
                return dict(FORBIDDEN_ACK)
            return await _call(method, self, sid, *args)

        return guarded

    return decorate


def _guard(
    fn: Handler, rule: Requirement, event: str,
    claims_of: Callable[[str], Awaitable[dict[str, Any] | None]],
) -> Handler:
    @functools.wraps(fn)
    async def guarded(sid: str, *args: Any) -> Any:
        if not _allowed(rule, await claims_of(sid), sid, event):
            return dict(FORBIDDEN_ACK)
        return await _call(fn, sid, *args)

    return guarded


def _allowed(rule: Requirement, claims: Mapping[str, Any] | None, sid: str, event: str) -> bool:
    if rule.allows(claims):
        return True
    log.info("event refused sid=%s event=%s code=%s", sid, event, ForbiddenError.code)
    return False


async def _call(fn: Handler, *args: Any) -> Any:
    result = fn(*args)
    return await result if inspect.isawaitable(result) else result
