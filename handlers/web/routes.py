"""The HTTP routes that ``attach_jwt_auth`` returns, as named URL specs."""

from __future__ import annotations

from typing import Any

import tornado.web

from ..authenticator import Authenticator
from ..config import AuthSettings
from ..keys import public_jwks
from ..storage.users import UserStore
from .health import HealthHandler
from .jwks import JWKS_PATTERN, JWKSHandler
from .login import FailedLogins, LoginHandler, LoginLimits
from .logout import LogoutHandler
from .metrics import LOOPBACK, MetricsHandler
from .refresh import TokenRefreshHandler
from .static import client_specs, find_static_dir
from .token_limits import BearerLimits

__all__ = ["http_specs"]


def http_specs(
    settings: AuthSettings,
    authenticator: Authenticator,
    users: UserStore | None,
    routes: tuple[str, ...],
    prefix: str = "",
    metrics_allowed: tuple[str, ...] = LOOPBACK,
    login_limits: FailedLogins | None = None,
    bearer_limits: BearerLimits | None = None,
) -> list[tornado.web.URLSpec]:
    """URL specs named ``tsj.<route>`` for the ``routes`` asked for, under ``prefix``.

    ``"jwks"`` is served only when the key source has public keys;
    ``"metrics"`` only to clients in ``metrics_allowed`` (CIDR networks).
    ``login_limits``, ``bearer_limits``: default new :class:`LoginLimits`
    and :class:`BearerLimits` from ``settings``.
    """
    common: dict[str, Any] = {"settings": settings, "authenticator": authenticator}
    limits = login_limits or LoginLimits.from_settings(settings)
    bearer = dict(common, limits=bearer_limits or BearerLimits.from_settings(settings))
    table: dict[str, tuple[str, type[tornado.web.RequestHandler], dict[str, Any]]] = {
        "login": ("/login", LoginHandler, dict(common, users=users, limits=limits)),
        "logout": ("/logout", LogoutHandler, bearer),
        "refresh": ("/token/refresh", TokenRefreshHandler, dict(bearer, users=users)),
        "health": ("/healthz", HealthHandler, {}),
        "jwks": (JWKS_PATTERN, JWKSHandler, {"keys": authenticator.keys}),
        "metrics": (
            "/metrics",
            MetricsHandler,
            {"metrics": authenticator.metrics, "allowed": metrics_allowed},
        ),
    }
    if public_jwks(authenticator.keys) is None:
        del table["jwks"]
    specs = [
        tornado.web.url(prefix + path, handler, kwargs, name=f"tsj.{route}")
        for route, (path, handler, kwargs) in table.items()
        if route in routes
    ]
    if "client" in routes:
        specs.extend(client_specs(find_static_dir(settings.static_dir), prefix))
    return specs
