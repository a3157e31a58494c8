"""``POST /logout``: revoke the presented token, or all of its user's."""

from __future__ import annotations

import math
import time

from ..errors import BadRequestError
from .bearer import BearerHandler

__all__ = ["LogoutHandler"]


class LogoutHandler(BearerHandler):
    """Revoke the presented Bearer token (with ``{"all": true}``: all of the user's)."""

    async def post(self) -> None:
        claims = await self.bearer_claims()
        everything = self._wants_all()
        if everything:
            # The whole second: dates are whole seconds, so this covers a token
            # issued earlier in this second; later logins wait for the next.
            before = math.floor(time.time())
            # Kept for good: the tokens it covers may carry any earlier
            # token_ttl, so none known now bounds their lifetime.
            await self.authenticator.revoke_user(str(claims["sub"]), before, math.inf)
        elif "jti" in claims:
            await self.authenticator.revoke(claims)
        else:  # possible only when required_claims leaves jti out
            raise BadRequestError('The token has no jti to revoke; send {"all": true}.')
        self.set_status(204)
        self.finish()

    def _wants_all(self) -> bool:
        if not self.body:
            return False
        value = self.json_body().get("all", False)
        if not isinstance(value, bool):
            if value in ("true", "false"):  # form-encoded
                return value == "true"
            raise BadRequestError()
        return value
