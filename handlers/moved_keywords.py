"""The keyword arguments ``attach_jwt_auth`` took before they moved into settings.

Kept for one deprecation cycle: each still works, with a ``DeprecationWarning``
naming the settings field to use instead.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from typing import Any

from .config import LOOPBACK, AuthSettings

__all__ = ["settings_with_moved_keywords", "MOVED_KEYWORDS"]

# old keyword -> where it lives now
MOVED_KEYWORDS = {
    "routes": "AuthSettings(routes=...)",
    "prefix": "AuthSettings(prefix=...)",
    "namespaces": "AuthSettings(namespaces=...)",
    "events": "AuthSettings(events=...)",
    "exempt_namespaces": "AuthSettings(exempt_namespaces=...)",
    "limits": "AuthSettings(limits=SocketLimits(...))",
    "metrics_allowed": "AuthSettings(metrics_allowed=...)",
    "websocket_compression": (
        "AuthSettings(transport=Transport(websocket_compression=...))"
    ),
}
METRICS_ROUTE = "metrics"  # was a route name; now served when metrics_allowed is set


def settings_with_moved_keywords(
    settings: AuthSettings, moved: Mapping[str, Any]
) -> AuthSettings:
    """``settings`` with the deprecated keywords in ``moved`` applied.

    :raises TypeError: a keyword that never existed.
    """
    unknown = [name for name in moved if name not in MOVED_KEYWORDS]
    if unknown:
        raise TypeError(
            f"attach_jwt_auth() got an unexpected keyword argument {unknown[0]!r}"
        )
    if not moved:
        return settings
    for name in moved:
        warnings.warn(
            f"attach_jwt_auth({name}=...) is deprecated: use {MOVED_KEYWORDS[name]}",
            DeprecationWarning,
            stacklevel=3,
        )
    changes = {k: v for k, v in moved.items() if k != "websocket_compression"}
    if "websocket_compression" in moved:
        changes["transport"] = dataclasses.replace(
            settings.transport, websocket_compression=moved["websocket_compression"]
        )
    if "routes" in changes:
        routes = tuple(changes["routes"])
        changes["routes"] = tuple(r for r in routes if r != METRICS_ROUTE)
        allowed = tuple(moved.get("metrics_allowed", LOOPBACK))
        changes["metrics_allowed"] = allowed if METRICS_ROUTE in routes else ()
    else:  # as before: without the "metrics" route, metrics_allowed did nothing
        changes.pop("metrics_allowed", None)
    return dataclasses.replace(settings, **changes)
