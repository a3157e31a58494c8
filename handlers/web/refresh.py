"""``POST /token/refresh``: a new token for the same session."""

from __future__ import annotations

import logging
from typing import Any

from ..errors import SessionExpiredError, TokenRevokedError, UnauthorizedError
from ..revocation import wait_to_issue
from ..storage.users import UserStore
from ..tokens import reissue_token
from .bearer import BearerHandler

__all__ = ["TokenRefreshHandler"]

log = logging.getLogger("tornado_socketio_jwt")


class TokenRefreshHandler(BearerHandler):
    """``POST /token/refresh`` with ``Authorization: Bearer T``: a new token.

    T must verify and not be revoked; T itself stays valid until it expires
    (a socket still using it can move to the new token with ``refresh``).
    With a user store (the server issues its own tokens), T's user must still
    exist: a user deleted while the server runs gets no new token.
    """

    route = "refresh"

    def initialize(  # type: ignore[override]
        self, users: UserStore | None = None, **common: Any
    ) -> None:
        super().initialize(**common)
        self.users = users

    async def post(self) -> None:
        try:
            claims = await self.bearer_claims()
            await self.limits.count_refresh(str(claims["sub"]))
            auth = self.authenticator
            now = await wait_to_issue(auth.revocations, str(claims["sub"]), auth.clock)
            new_token, payload = reissue_token(auth.settings, auth.keys, claims, now)
            if (
                self.users is not None
                and await self.users.get(str(claims["sub"])) is None
            ):
                raise TokenRevokedError()  # the user was deleted
        except (UnauthorizedError, SessionExpiredError) as err:
            log.info("token refresh refused code=%s", err.code)
            raise
        log.info("token refreshed sub=%s", payload["sub"])
        expires_in = int(payload["exp"]) - int(payload["iat"])
        self.write(
            {"token": new_token, "token_type": "Bearer", "expires_in": expires_in}
        )
