"""``BearerHandler``: HTTP endpoints authenticated by ``Authorization: Bearer T``."""

from __future__ import annotations

from typing import Any

from ..authenticator import Authenticator
from ..config import AuthSettings
from ..credentials import extract_token
from ..errors import CredentialsRequiredError
from ..keys import prepare_keys
from ..tokens import read_header, verify_token
from .base import JSONHandler
from .token_limits import BearerLimits

__all__ = ["BearerHandler"]


class BearerHandler(JSONHandler):
    """Base of ``/logout`` and ``/token/refresh``: the token comes from the header
    only, and is verified exactly as a socket's would be.

    :param limits: the per-user limits these endpoints share (one object for
                   ``/logout`` and ``/token/refresh``; see ``web/routes.py``).
    """

    def initialize(  # type: ignore[override]
        self,
        settings: AuthSettings,
        authenticator: Authenticator,
        limits: BearerLimits,
    ) -> None:
        super().initialize(settings, authenticator.metrics)
        self.authenticator = authenticator
        self.limits = limits

    def check_xsrf_cookie(self) -> None:
        # Exempt when the host sets xsrf_cookies=True: authenticated by the
        # Authorization header, which a cross-site form cannot set.
        return None

    def bearer_token(self) -> str:
        """The request's Bearer token, not yet decoded (its size is checked
        by verification, before anything decodes it).

        :raises UnauthorizedError: no header, or not ``Bearer <token>``.
        """
        header = self.request.headers.get("Authorization")
        if header is None:
            raise CredentialsRequiredError()
        return extract_token({"HTTP_AUTHORIZATION": header}, None, ("header",))

    async def bearer_claims(self) -> dict[str, Any]:
        """The verified, unrevoked claims of the request's Bearer token.

        :raises UnauthorizedError: no header, not ``Bearer <token>``, or a bad token.
        """
        return await self.authenticator.verify(self.bearer_token())

    async def signed_claims(self, token: str) -> dict[str, Any]:
        """``token``'s verified claims, revoked or not (to finish a revocation).

        :raises UnauthorizedError: the token itself does not verify.
        """
        keys, settings = self.authenticator.keys, self.authenticator.settings
        header = read_header(token, settings.max_token_bytes)
        await prepare_keys(keys, header)
        return verify_token(token, settings, keys, header=header)
