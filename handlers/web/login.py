"""``POST /login``: a username and password for a token."""

from __future__ import annotations

from typing import Any, Protocol

from ..authenticator import Authenticator
from ..config import AuthSettings
from ..errors import BadRequestError, InvalidCredentialsError, TooManyAttemptsError
from ..limiter import FailureLimiter, Limiter
from ..revocation import wait_to_issue
from ..storage.users import User, UserStore
from ..tokens import issue_token
from .base import JSONHandler
from .work_queue import WorkQueue

__all__ = ["LoginHandler", "LoginLimits", "FailedLogins"]

MAX_FIELD_LENGTH = 1024
IP_FAILURE_FACTOR = 4


class FailedLogins(Protocol):
    """Failed-login counters by username and by address, and the hashing queue:
    a :class:`LoginLimits`, or the same counted in Redis."""

    by_user: Limiter
    by_address: Limiter
    hashing: WorkQueue


class LoginLimits:
    """Failed-login counters: per username, and (more loosely) per address;
    and the bounded queue in front of the password hashes.

    :param concurrency: password checks running at once (match the user
                        store's hashing threads). Default 2.
    :param queue: checks waiting beyond those; more get 429 at once. Default 8.
    """

    def __init__(
        self, max_failures: int, window: float, *, concurrency: int = 2, queue: int = 8
    ) -> None:
        self.by_user = FailureLimiter(max_failures, window)
        self.by_address = FailureLimiter(max_failures * IP_FAILURE_FACTOR, window)
        self.hashing = WorkQueue(concurrency, queue)

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> LoginLimits:
        """The limits ``settings`` configure."""
        return cls(
            settings.login_max_failures,
            settings.login_window,
            concurrency=settings.login_concurrency,
            queue=settings.login_queue,
        )


class LoginHandler(JSONHandler):
    """Exchange a username and password for a token.

    Unknown users and wrong passwords get the same 401 after the same work.
    """

    route = "login"
    #: ``tsj_logins{outcome=...}`` by answer status.
    OUTCOMES = {
        200: "success",
        400: "bad_request",
        401: "invalid_credentials",
        413: "bad_request",
        429: "too_many_attempts",
    }

    def initialize(  # type: ignore[override]
        self,
        settings: Any,
        authenticator: Authenticator,
        users: UserStore,
        limits: FailedLogins,
    ) -> None:
        super().initialize(settings, authenticator.metrics)
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
            await limits.by_user.retry_after(user_key),
            await limits.by_address.retry_after(address_key),
        )
        if wait:
            raise TooManyAttemptsError(wait)
        if limits.hashing.full:  # refused at once, and not counted as a failure
            raise TooManyAttemptsError(limits.hashing.retry_after, WorkQueue.BUSY)
        # Counted as failures before the (slow) hash check, so that requests
        # sent all at once cannot each pass the limit.
        await limits.by_user.attempt(user_key)
        await limits.by_address.attempt(address_key)
        async with limits.hashing.slot():
            user = await self.users.authenticate(username, password)
        if user is None:
            raise InvalidCredentialsError()
        await limits.by_user.reset(user_key)
        await limits.by_address.forgive(address_key)
        token = await self._issue(user)
        ttl = self.authenticator.settings.token_ttl
        self.write({"token": token, "token_type": "Bearer", "expires_in": ttl})

    async def _issue(self, user: User) -> str:
        auth = self.authenticator
        # Never inside a "log out everywhere" cut-off made this very second.
        now = await wait_to_issue(auth.revocations, str(user.id), auth.clock)
        claims = {**user.claims(), "auth_time": int(now)}
        token, _ = issue_token(auth.settings, auth.keys, str(user.id), claims, now=now)
        return token

    def _credentials(self) -> tuple[str, str]:
        body = self.json_body()
        username, password = body.get("username"), body.get("password")
        for value in (username, password):
            if not isinstance(value, str) or not value or len(value) > MAX_FIELD_LENGTH:
                raise BadRequestError()
        return username, password  # type: ignore[return-value]

    def on_finish(self) -> None:
        super().on_finish()
        if self.metrics is not None:
            outcome = self.OUTCOMES.get(self.get_status(), "error")
            self.metrics.logins.labels(outcome).inc()
