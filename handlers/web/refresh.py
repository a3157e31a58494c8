"""``POST /token/refresh``: a new token for the same session."""

from __future__ import annotations

import logging

from ..errors import SessionExpiredError, UnauthorizedError
from ..revocation import wait_to_issue
from ..tokens import reissue_token
from .bearer import BearerHandler

__all__ = ["TokenRefreshHandler"]

log = logging.getLogger("tornado_socketio_jwt")


class TokenRefreshHandler(BearerHandler):
    """``POST /token/refresh`` with ``Authorization: Bearer T``: a new token.

    T must verify and not be revoked; T itself stays valid until it expires
    (a socket still using it can move to the new token with ``refresh``).
    """

    route = "refresh"

    async def post(self) -> None:
        try:
            claims = await self.bearer_claims()
            await self.limits.count_refresh(str(claims["sub"]))
            auth = self.authenticator
            now = await wait_to_issue(auth.revocations, str(claims["sub"]), auth.clock)
            new_token, payload = reissue_token(auth.settings, auth.keys, claims, now)
        except (UnauthorizedError, SessionExpiredError) as err:
            log.info("token refresh refused code=%s", err.code)
            raise
        log.info("token refreshed sub=%s", payload["sub"])
        expires_in = int(payload["exp"]) - int(payload["iat"])
        self.write(
            {"token": new_token, "token_type": "Bearer", "expires_in": expires_in}
        )
