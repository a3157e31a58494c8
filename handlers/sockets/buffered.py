"""What a client makes the server buffer: binary packets still waiting for attachments.

python-socketio keeps, per Engine.IO session, one binary packet until all the
attachments its header announced have arrived. The packet screen caps the
attachments of one packet; :class:`BufferedBinary` caps what one client holds
across all its sessions: the bytes of incomplete binary packets (header text
and attachments received so far), totalled per address and per user.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..config import DEFAULT_MAX_BUFFERED_BYTES

__all__ = ["BufferedBinary", "DEFAULT_MAX_BUFFERED_BYTES"]


@dataclass
class _Pending:
    remaining: int  # attachments still to come
    size: int  # bytes held: the header and the attachments so far
    address: str
    user: str | None
    delivered: bool  # False: the header was dropped, so are its attachments


class BufferedBinary:
    """Incomplete binary packets, per Engine.IO session, counted per client.

    :param budget: bytes one address, and one user, may have buffered at
                   once; ``None``: no limit.
    """

    def __init__(self, budget: int | None = DEFAULT_MAX_BUFFERED_BYTES) -> None:
        self.budget = budget
        self._pending: dict[str, _Pending] = {}
        self._by_address: Counter[str] = Counter()
        self._by_user: Counter[str] = Counter()

    def awaiting(self, eio_sid: str) -> bool:
        """Whether the session's next message is an attachment."""
        return eio_sid in self._pending

    def skipping(self, eio_sid: str) -> bool:
        """Whether the session's pending packet was dropped (its attachments
        are dropped too)."""
        pending = self._pending.get(eio_sid)
        return pending is not None and not pending.delivered

    def start(
        self,
        eio_sid: str,
        attachments: int,
        size: int,
        address: str,
        user: str | None,
        delivered: bool = True,
    ) -> bool:
        """A binary header was read. :return: ``False`` past the budget."""
        self.release(eio_sid)
        held = size if delivered else 0
        self._pending[eio_sid] = _Pending(attachments, 0, address, user, delivered)
        return self._add(self._pending[eio_sid], held)

    def attachment(self, eio_sid: str, size: int) -> tuple[bool, bool]:
        """An attachment arrived. :return: ``(within budget, delivered)``;
        the packet is released once its last attachment is in."""
        pending = self._pending[eio_sid]
        within = self._add(pending, size if pending.delivered else 0)
        pending.remaining -= 1
        if pending.remaining <= 0:
            self.release(eio_sid)
        return within, pending.delivered

    def release(self, eio_sid: str) -> None:
        """The session's packet is complete or gone: its bytes are freed."""
        pending = self._pending.pop(eio_sid, None)
        if pending is None:
            return
        _take(self._by_address, pending.address, pending.size)
        if pending.user is not None:
            _take(self._by_user, pending.user, pending.size)

    def held(self, *, address: str | None = None, user: str | None = None) -> int:
        """Bytes buffered for ``address`` or ``user`` (or in all, with neither)."""
        if address is not None:
            return self._by_address[address]
        if user is not None:
            return self._by_user[user]
        return sum(p.size for p in self._pending.values())

    def __len__(self) -> int:
        return len(self._pending)

    def _add(self, pending: _Pending, size: int) -> bool:
        pending.size += size
        self._by_address[pending.address] += size
        within = self.budget is None or self._by_address[pending.address] <= self.budget
        if pending.user is not None:
            self._by_user[pending.user] += size
            if self.budget is not None and self._by_user[pending.user] > self.budget:
                within = False
        return within


def _take(counts: Counter[str], key: str, size: int) -> None:
    counts[key] -= size
    if counts[key] <= 0:
        del counts[key]
