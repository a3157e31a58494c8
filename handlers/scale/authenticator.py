"""``SharedAuthenticator``: an authenticator whose denylist is shared via Redis."""

from __future__ import annotations

from typing import Any

from ..authenticator import Authenticator
from .revocations import RedisRevocations

__all__ = ["SharedAuthenticator"]


class SharedAuthenticator(Authenticator):
    """:class:`~..authenticator.Authenticator` with a :class:`RedisRevocations`
    store: verification waits for the shared denylist to be loaded once (a
    bounded wait, at the first handshake or at :meth:`start`), then never
    again; the local copy is kept current by the store's subscription.

    :param shared: the store; every other argument is the base class's.
    """

    def __init__(self, *args: Any, shared: RedisRevocations, **kwargs: Any) -> None:
        super().__init__(*args, store=shared, **kwargs)
        self.shared = shared

    async def verify(self, token: object) -> dict[str, Any]:
        await self.shared.ready(self)
        return await super().verify(token)

    async def start(self) -> None:
        """Subscribe and load the denylist now.

        :raises RevocationsUnavailableError: Redis did not answer in time.
        """
        await self.shared.ready(self)

    async def close(self) -> None:
        """Stop the subscription and close the Redis clients."""
        await self.shared.aclose()
