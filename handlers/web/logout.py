"""``POST /logout``: revoke the presented token, or all of its user's."""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from ..errors import BadRequestError, RevocationNotPersistedError, TokenRevokedError
from ..storage.sqlite import StorageError
from .bearer import BearerHandler

__all__ = ["LogoutHandler"]

log = logging.getLogger("tornado_socketio_jwt")


class LogoutHandler(BearerHandler):
    """Revoke the presented Bearer token (with ``{"all": true}``: all of the user's).

    204 once the revocation is saved. When the store cannot save it (disk
    full), 503 ``revocation_not_persisted``: it is in effect on this server
    only, and the same request, sent again, saves it (the token is accepted
    again for that purpose only).
    """

    route = "logout"

    async def post(self) -> None:
        claims = await self._claims()
        everything = self._wants_all()
        sub = str(claims["sub"])
        await self.limits.count_logout(sub)
        if not everything and "jti" not in claims:
            # possible only when required_claims leaves jti out
            raise BadRequestError('The token has no jti to revoke; send {"all": true}.')
        try:
            await self._revoke(claims, sub, everything)
        except StorageError as exc:
            log.error("logout not saved sub=%s: %s", sub, exc)
            raise RevocationNotPersistedError() from exc
        self.set_status(204)
        self.finish()

    async def _claims(self) -> dict[str, Any]:
        token = self.bearer_token()
        try:
            return await self.authenticator.verify(token)
        except TokenRevokedError:
            claims = await self.signed_claims(token)
            if not self.limits.unsaved(claims):
                raise
            return claims

    async def _revoke(self, claims: dict[str, Any], sub: str, everything: bool) -> None:
        limits, revocations = self.limits, self.authenticator.revocations
        if everything or sub in limits.unsaved_subs:
            # The whole second: dates are whole seconds, so this covers a token
            # issued earlier in this second; later logins wait for the next. A
            # retry re-saves the cut-off already in effect.
            before = math.floor(time.time()) if everything else revocations.cutoff(sub)
            limits.unsaved_subs.add(sub)
            # Kept for good: the tokens it covers may carry any earlier
            # token_ttl, so none known now bounds their lifetime.
            await self.authenticator.revoke_user(sub, float(before or 0), math.inf)
            limits.unsaved_subs.discard(sub)
        if not everything:
            jti = str(claims["jti"])
            limits.unsaved_jtis.add(jti)
            await self.authenticator.revoke(claims)
            limits.unsaved_jtis.discard(jti)

    def _wants_all(self) -> bool:
        if not self.body:
            return False
        value = self.json_body().get("all", False)
        if not isinstance(value, bool):
            if value in ("true", "false"):  # form-encoded
                return value == "true"
            raise BadRequestError()
        return value
