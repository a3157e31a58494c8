"""``POST /login``: a username and password for a token."""

from __future__ import annotations

import inspect
import time
from typing import Any

from ..authenticator import Authenticator
from ..errors import BadRequestError, InvalidCredentialsError, TooManyAttemptsError
from ..storage.users import UserStore
from ..tokens import issue_token
from .base import JSONHandler
from .limits import FailureLimiter

__all__ = ["LoginHandler", "LoginLimits"]

MAX_FIELD_LENGTH = 1024
IP_FAILURE_FACTOR = 4


class LoginLimits:
    """Failed-login counters: per username, and (more loosely) per address."""

    def __init__(self, max_failures: int, window: float) -> None:
        self.by_user = FailureLimiter(max_failures, window)
        self.by_address = FailureLimiter(max_failures * IP_FAILURE_FACTOR, window)


class LoginHandler(JSONHandler):
    """Exchange a username and password for a token.

    Unknown users and wrong passwords get the same 401 after the same work.
    """

    def initialize(  # type: ignore[override]
        self,
        settings: Any,
        authenticator: Authenticator,
        users: UserStore,
        limits: Any,  # LoginLimits, or the same methods as coroutines (Redis)
    ) -> None:
        super().initialize(settings)
        self.authenticator = authenticator
        self.users = users
        self.limits = limits

    def check_xsrf_cookie(self) -> None:
        # Deliberately exempt when the host sets xsrf_cookies=True: this
        # endpoint sets no cookie and returns the token only in the response
        # body, which a cross-site page cannot read.
        return None

    async def post(self) -> None:
        username, password = self._credentials()
        user_key, address_key = username.casefold(), self.request.remote_ip or ""
        limits = self.limits
        wait = max(
            await _settled(limits.by_user.retry_after(user_key)),
            await _settled(limits.by_address.retry_after(address_key)),
        )
        if wait:
            raise TooManyAttemptsError(wait)
        # Counted as failures before the (slow) hash check, so that requests
        # sent all at once cannot each pass the limit.
        await _settled(limits.by_user.attempt(user_key))
        await _settled(limits.by_address.attempt(address_key))
        user = await self.users.authenticate(username, password)
        if user is None:
            raise InvalidCredentialsError()
        await _settled(limits.by_user.reset(user_key))
        await _settled(limits.by_address.forgive(address_key))
        now = time.time()
        claims = {**user.claims(), "auth_time": int(now)}
        settings, keys = self.authenticator.settings, self.authenticator.keys
        token, _ = issue_token(settings, keys, str(user.id), claims, now=now)
        self.write(
            {"token": token, "token_type": "Bearer", "expires_in": settings.token_ttl}
        )

    def _credentials(self) -> tuple[str, str]:
        body = self.json_body()
        username, password = body.get("username"), body.get("password")
        for value in (username, password):
            if not isinstance(value, str) or not value or len(value) > MAX_FIELD_LENGTH:
                raise BadRequestError()
        return username, password  # type: ignore[return-value]


async def _settled(result: Any) -> Any:
    # The limiters are local (plain calls) or shared in Redis (coroutines).
    return await result if inspect.isawaitable(result) else result
