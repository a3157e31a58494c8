"""Namespace rules: which verified tokens may join which namespace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..grants import Requirement
from .engine import engine_for

__all__ = ["NamespaceRules", "class_requirement"]


class NamespaceRules:
    """Requirements by namespace, registered with ``authorize_namespace``.

    :meth:`check` also applies the ``requirement`` of the namespace's
    class-based handler (:class:`AuthNamespace`).
    """

    def __init__(self) -> None:
        self._by_namespace: dict[str, Requirement] = {}

    def require(self, namespace: str, requirement: Requirement) -> None:
        """Let only tokens meeting ``requirement`` join ``namespace``."""
        self._by_namespace[namespace] = requirement

    def check(self, sio: Any, namespace: str, claims: Mapping[str, Any]) -> None:
        """:raises ForbiddenError: when a rule of ``namespace`` is not met."""
        registered = self._by_namespace.get(namespace)
        for rule in (registered, class_requirement(sio, namespace)):
            if rule is not None:
                rule.check(claims)


def class_requirement(sio: Any, namespace: str) -> Requirement | None:
    """The ``requirement`` declared by ``namespace``'s class-based handler, if any."""
    handler = engine_for(sio).namespace_handler(namespace)
    rule = getattr(handler, "requirement", None)
    return rule if isinstance(rule, Requirement) else None
