"""The local attempt limiter (failed logins, the Bearer endpoints' budgets)."""

from __future__ import annotations

import pytest

from tornado_socketio_jwt.limiter import FailureLimiter, key_digest


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.gen_test
async def test_key_is_blocked_after_max_failures_until_the_window_passes() -> None:
    clock = Clock()
    limiter = FailureLimiter(3, 60, clock=clock)
    for _ in range(3):
        assert await limiter.retry_after("alice") == 0
        await limiter.attempt("alice")
    assert await limiter.retry_after("alice") == 61
    clock.now += 30
    assert await limiter.retry_after("alice") == 31
    clock.now += 31
    assert await limiter.retry_after("alice") == 0


@pytest.mark.gen_test
async def test_take_counts_until_the_limit_then_answers_the_wait() -> None:
    limiter = FailureLimiter(2, 60, clock=Clock())
    assert [await limiter.take("bob") for _ in range(3)] == [0, 0, 61]
    await limiter.reset("bob")
    assert await limiter.take("bob") == 0


@pytest.mark.gen_test
async def test_forgive_takes_back_one_provisional_failure() -> None:
    limiter = FailureLimiter(1, 60, clock=Clock())
    await limiter.attempt("1.2.3.4")
    await limiter.forgive("1.2.3.4")
    assert await limiter.retry_after("1.2.3.4") == 0


@pytest.mark.gen_test
async def test_reading_does_not_remember_a_key() -> None:
    limiter = FailureLimiter(1, 60)
    await limiter.retry_after("never-tried")
    assert len(limiter) == 0


@pytest.mark.gen_test
async def test_memory_is_bounded_by_evicting_the_least_recently_used_key() -> None:
    limiter = FailureLimiter(1, 60, max_keys=3, clock=Clock())
    for name in ("a", "b", "c", "d"):
        await limiter.attempt(name * 1000)
    assert len(limiter) == 3
    assert await limiter.retry_after("a" * 1000) == 0
    assert await limiter.retry_after("d" * 1000) > 0


def test_keys_are_stored_as_fixed_size_digests() -> None:
    assert len(key_digest("x" * 1024)) == len(key_digest("y")) == 32
    assert key_digest("alice") != key_digest("Alice")
