"""The failed-login limiter."""

from __future__ import annotations

from tornado_socketio_jwt.web.limits import FailureLimiter


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_key_is_blocked_after_max_failures_until_the_window_passes():
    clock = Clock()
    limiter = FailureLimiter(3, 60, clock=clock)
    for _ in range(3):
        assert limiter.retry_after("alice") == 0
        limiter.attempt("alice")
    assert limiter.retry_after("alice") == 61
    clock.now += 30
    assert limiter.retry_after("alice") == 31
    clock.now += 31
    assert limiter.retry_after("alice") == 0


def test_forgive_takes_back_one_provisional_failure():
    limiter = FailureLimiter(1, 60, clock=Clock())
    limiter.attempt("1.2.3.4")
    limiter.forgive("1.2.3.4")
    assert limiter.retry_after("1.2.3.4") == 0


def test_reading_does_not_remember_a_key():
    limiter = FailureLimiter(1, 60)
    limiter.retry_after("never-tried")
    assert len(limiter) == 0


def test_memory_is_bounded_by_evicting_the_least_recently_used_key():
    limiter = FailureLimiter(1, 60, max_keys=3, clock=Clock())
    for name in ("a", "b", "c", "d"):
        limiter.attempt(name * 1000)
    assert len(limiter) == 3
    assert limiter.retry_after("a" * 1000) == 0 and limiter.retry_after("d" * 1000) > 0
