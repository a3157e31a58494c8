"""The recovery store's bounds: what falls out is not recoverable."""

from __future__ import annotations

import pytest

from tornado_socketio_jwt import SettingError, StateRecovery
from tornado_socketio_jwt.sockets.recovery_store import (
    MemoryRecoveryStore,
    SavedSession,
    estimate_size,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def store(clock: Clock | None = None, **bounds: float) -> MemoryRecoveryStore:
    return MemoryRecoveryStore(StateRecovery(**bounds), clock or Clock())  # type: ignore[arg-type]


def session(
    pid: str = "p",
    rooms: tuple[str, ...] = ("r",),
    start: int = 0,
    sub: str = "7",
    data: dict[str, object] | None = None,
) -> SavedSession:
    return SavedSession(
        pid, "sid", "/", sub, rooms, {"k": 1} if data is None else data, start
    )


def test_missed_events_follow_the_rooms_the_namespace_and_skip_sid() -> None:
    s = store()
    first = s.append("/", ["r"], [], "e", [1])
    s.append("/", None, [], "e", [2])
    s.append("/", ["other"], [], "e", [3])
    s.append("/chat", None, [], "e", [4])
    s.append("/", None, ["sid"], "e", [5])
    s.append("/", ["sid"], [], "e", [6])  # to the socket itself
    after = s.sequence_of(first)
    assert after == 1
    missed = s.missed("/", after, ["r"], "sid")
    assert missed is not None
    assert [m[1] for m in missed] == [2, 6]
    assert all(m[-1].startswith(s.epoch + "-") for m in missed)


def test_an_offset_of_another_store_or_not_yet_given_is_unknown() -> None:
    s, other = store(), store()
    offset = other.append("/", None, [], "e", [])
    assert s.sequence_of(offset) is None
    assert s.sequence_of(f"{s.epoch}-1") is None  # nothing emitted yet
    assert s.sequence_of(f"{s.epoch}-x") is None
    assert s.missed("/", 5, [], "sid") is None


def test_the_buffer_drops_its_oldest_past_its_packet_and_byte_caps() -> None:
    s = store(buffer_packets=3)
    offsets = [s.append("/", None, [], "e", [n]) for n in range(5)]
    assert s.buffered[0] == 3
    assert s.missed("/", s.sequence_of(offsets[0]) or 0, [], "sid") is None
    assert s.missed("/", 2, [], "sid") is not None  # nothing after 2 fell out
    by_bytes = store(buffer_bytes=100)
    for _ in range(10):
        by_bytes.append("/", None, [], "e", ["x" * 40])
    assert by_bytes.buffered[1] <= 100


def test_one_recovery_replays_no_more_than_its_caps() -> None:
    s = store(max_missed_packets=2, max_missed_bytes=10_000)
    for n in range(3):
        s.append("/", None, [], "e", [n])
    assert s.missed("/", 0, [], "sid") is None
    assert s.missed("/", 1, [], "sid") is not None
    heavy = store(max_missed_bytes=50)
    heavy.append("/", None, [], "e", ["x" * 100])
    assert heavy.missed("/", 0, [], "sid") is None


def test_sessions_and_events_expire_after_the_maximum_disconnection_duration() -> None:
    clock = Clock()
    s = store(clock, max_disconnection_duration=10)
    s.append("/", None, [], "e", [1])
    s.save(session())
    clock.now += 9
    assert s.peek("p") is not None and s.missed("/", 0, [], "sid") is not None
    clock.now += 2
    assert s.peek("p") is None
    assert s.missed("/", 0, [], "sid") is None


def test_a_session_is_given_back_once_and_the_oldest_go_past_the_cap() -> None:
    s = store(max_saved_sessions=2)
    for pid in ("a", "b", "c"):
        s.save(session(pid))
    assert s.peek("a") is None and s.saved_count == 2
    assert s.take("b") is not None and s.take("b") is None


def test_one_users_flood_pushes_out_only_their_own_oldest_sessions() -> None:
    s = store(max_saved_sessions_per_user=3, max_saved_sessions=50)
    s.save(session("bob-1", sub="bob"))
    for n in range(1000):
        dropped = s.save(session(f"eve-{n}", sub="eve"))
        assert dropped == ([] if n < 3 else ["evicted_per_user"])
    assert s.peek("bob-1") is not None
    assert [s.peek(f"eve-{n}") is not None for n in (995, 996, 997, 998, 999)] == [
        False,
        False,
        True,
        True,
        True,
    ]
    assert (s.saved_count_of("eve"), s.saved_count_of("bob"), s.saved_count) == (
        3,
        1,
        4,
    )


def test_a_session_given_back_or_expired_frees_its_users_place() -> None:
    clock = Clock()
    s = store(clock, max_saved_sessions_per_user=2, max_disconnection_duration=10)
    s.save(session("a"))
    s.save(session("b"))
    assert s.take("a") is not None and s.saved_count_of("7") == 1
    assert s.save(session("c")) == []  # a's place was free
    assert s.peek("b") is not None
    clock.now += 11
    assert s.peek("b") is None and s.saved_count_of("7") == 0
    assert s.saved_count == 0 and s.saved_bytes == 0


def test_saving_a_pid_again_keeps_one_entry_and_its_new_state() -> None:
    s = store(max_saved_sessions_per_user=2)
    s.save(session("a", data={"n": 1}))
    s.save(session("b"))
    assert s.save(session("a", data={"n": 2})) == []
    kept = s.peek("a")
    assert kept is not None and kept.data == {"n": 2}
    assert s.saved_count_of("7") == 2 and s.peek("b") is not None


def test_a_session_larger_than_its_cap_is_not_saved() -> None:
    s = store(max_saved_session_bytes=1000)
    assert s.save(session("big", data={"blob": "x" * 2000})) == ["not_saved_too_large"]
    assert s.peek("big") is None and s.saved_bytes == 0
    many_rooms = tuple(f"room-{n}" for n in range(200))
    assert s.save(session("rooms", rooms=many_rooms)) == ["not_saved_too_large"]
    nested: list[object] = ["y" * 2000]
    for _ in range(50):
        nested = [nested]
    assert s.save(session("deep", data={"n": nested})) == ["not_saved_too_large"]
    assert s.save(session("small", data={"blob": "x" * 500})) == []
    assert s.peek("small") is not None and 500 < s.saved_bytes <= 1000


def test_the_oldest_sessions_go_past_the_total_bytes_of_the_process() -> None:
    s = store(saved_sessions_bytes=10_000, max_saved_session_bytes=3000)
    for n in range(10):  # ten users, one session each of about 2 KB
        s.save(session(f"p{n}", sub=f"user-{n}", data={"blob": "x" * 2000}))
    assert s.saved_bytes <= 10_000
    kept = [n for n in range(10) if s.peek(f"p{n}") is not None]
    assert kept == list(range(10 - len(kept), 10)) and 3 <= len(kept) <= 4
    assert s.saved_count_of("user-0") == 0  # its index entry went with it
    for n in kept:
        assert s.take(f"p{n}") is not None
    assert s.saved_bytes == 0 and s.saved_count == 0


@pytest.mark.parametrize(
    "field",
    [
        "max_missed_packets",
        "buffer_bytes",
        "max_saved_sessions_per_user",
        "max_saved_session_bytes",
        "saved_sessions_bytes",
    ],
)
def test_bounds_must_be_positive(field: str) -> None:
    with pytest.raises(SettingError, match=field):
        StateRecovery(**{field: 0})  # type: ignore[arg-type]


def test_one_session_may_not_be_allowed_more_than_all_sessions() -> None:
    with pytest.raises(SettingError, match="max_saved_session_bytes"):
        StateRecovery(max_saved_session_bytes=2000, saved_sessions_bytes=1000)


def test_sizes_count_binary_at_its_length_and_every_depth() -> None:
    """Nothing nested deep is left out (a 1 MB string 40 lists down once
    counted as 8 bytes), and a structure that contains itself ends the walk."""
    assert estimate_size(["ab", b"\x00" * 10]) == 2 + (4 + 1) + (10 + 1)
    deep: list[object] = ["x" * 1_000_000]
    for _ in range(1000):
        deep = [deep]
    assert estimate_size(deep) > 1_000_000
    looped: list[object] = ["y"]
    looped.append(looped)
    assert 0 < estimate_size(looped) < 100


def test_a_size_limit_stops_the_walk_above_it() -> None:
    value = ["x" * 100] * 10_000
    assert estimate_size(value) > 1_000_000
    assert 50 < estimate_size(value, limit=50) < 20_000  # the list, one string
    assert estimate_size(["ab"], limit=50) == estimate_size(["ab"])
