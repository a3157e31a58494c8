"""What a verified token grants: scopes and roles, and :class:`Requirement` over them.

Scopes come from ``scope`` (OAuth: a space-separated string) and from ``scp``
or ``permissions`` (lists, as in Auth0 RBAC); roles from a configurable claim.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ForbiddenError

__all__ = [
    "Requirement",
    "scopes_of",
    "roles_of",
    "SCOPE_CLAIMS",
    "DEFAULT_ROLES_CLAIM",
]

SCOPE_CLAIMS = ("scope", "scp", "permissions")
DEFAULT_ROLES_CLAIM = "roles"


def _names(value: object) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, (list, tuple)):
        return frozenset(item for item in value if isinstance(item, str))
    return frozenset()


def scopes_of(claims: Mapping[str, Any]) -> frozenset[str]:
    """Every scope the claims grant, from ``scope``, ``scp`` and ``permissions``."""
    return frozenset().union(*(_names(claims.get(name)) for name in SCOPE_CLAIMS))


def roles_of(
    claims: Mapping[str, Any], claim: str = DEFAULT_ROLES_CLAIM
) -> frozenset[str]:
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
            if not isinstance(value, tuple) or not all(
                isinstance(v, str) for v in value
            ):
                raise TypeError(f"{name} must be a tuple of strings")

    def allows(self, claims: Mapping[str, Any] | None) -> bool:
        """Whether verified ``claims`` meet the requirement (``None``: never)."""
        if claims is None:
            return False
        if not set(self.scopes) <= scopes_of(claims):
            return False
        return not self.roles or bool(
            set(self.roles) & roles_of(claims, self.roles_claim)
        )

    def check(self, claims: Mapping[str, Any] | None) -> None:
        """:raises ForbiddenError: when the claims do not meet the requirement."""
        if not self.allows(claims):
            raise ForbiddenError()
