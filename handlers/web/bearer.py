"""``BearerHandler``: HTTP endpoints authenticated by ``Authorization: Bearer T``."""

from __future__ import annotations

from typing import Any

from ..authenticator import Authenticator
from ..config import AuthSettings
from ..errors import CredentialsRequiredError
from .base import JSONHandler
from ..credentials import extract_token

__all__ = ["BearerHandler"]


class BearerHandler(JSONHandler):
    """Base of ``/logout`` and ``/token/refresh``: the token comes from the header
    only, and is verified exactly as a socket's would be."""

    def initialize(  # type: ignore[override]
        self, settings: AuthSettings, authenticator: Authenticator
    ) -> None:
        super().initialize(settings)
        self.authenticator = authenticator

    def check_xsrf_cookie(self) -> None:
        # Exempt when the host sets xsrf_cookies=True: authenticated by the
        # Authorization header, which a cross-site form cannot set.
        return None

    async def bearer_claims(self) -> dict[str, Any]:
        """The verified, unrevoked claims of the request's Bearer token.

        :raises UnauthorizedError: no header, not ``Bearer <token>``, or a bad token.
        """
        header = self.request.headers.get("Authorization")
        if header is None:
            raise CredentialsRequiredError()
        token = extract_token(
            {"HTTP_AUTHORIZATION": header},
            None,
            ("header",),
            max_bytes=self.auth_settings.max_token_bytes,
        )
        return await self.authenticator.verify(token)
