"""Live sockets are cut when their token expires; one scheduler holds every deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.lifecycle_support import (
    assert_logged,
    assert_no_token_logged,
    capture_logs,
    wait_until,
)
from tests.support import connected_client, refusal, server_url
from tornado_socketio_jwt import AuthSettings, TokenExpiredError, authenticator_for
from tornado_socketio_jwt.deadlines import DeadlineScheduler


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_scheduler(clock: FakeClock) -> tuple[DeadlineScheduler[str], list[str]]:
    fired: list[str] = []
    return DeadlineScheduler(fired.extend, clock), fired


def test_scheduler_fires_due_keys_in_deadline_order() -> None:
    clock = FakeClock()
    scheduler, fired = make_scheduler(clock)
    scheduler.schedule("late", 1030)
    scheduler.schedule("early", 1010)
    scheduler.schedule("middle", 1020)

    clock.now = 1025
    assert scheduler.run_due() == ["early", "middle"]
    assert fired == ["early", "middle"] and len(scheduler) == 1


def test_scheduler_does_not_fire_a_cancelled_key() -> None:
    clock = FakeClock()
    scheduler, fired = make_scheduler(clock)
    scheduler.schedule("gone", 1010)
    scheduler.schedule("kept", 1010)

    assert scheduler.cancel("gone") is True
    clock.now = 1011
    scheduler.run_due()
    assert fired == ["kept"] and scheduler.cancel("gone") is False


def test_scheduler_moves_a_rescheduled_key_to_its_new_deadline() -> None:
    clock = FakeClock()
    scheduler, _fired = make_scheduler(clock)
    scheduler.schedule("socket", 1010)
    scheduler.schedule("socket", 1100)

    clock.now = 1050
    assert scheduler.run_due() == [] and scheduler.deadline("socket") == 1100
    clock.now = 1100
    assert scheduler.run_due() == ["socket"]


def test_scheduler_heap_stays_small_under_churn() -> None:
    clock = FakeClock()
    scheduler, _fired = make_scheduler(clock)
    for i in range(10_000):
        scheduler.schedule(f"s{i}", 2000 + i)
        scheduler.cancel(f"s{i}")
    scheduler.schedule("last", 1500)

    clock.now = 1e9
    assert scheduler.run_due() == ["last"]
    assert len(scheduler._heap) == 0  # compacted, not 10,001 stale entries


@pytest.mark.gen_test
async def test_scheduler_uses_one_timer_wakeup_for_many_close_deadlines() -> None:
    fired: list[int] = []
    scheduler: DeadlineScheduler[int] = DeadlineScheduler(fired.extend)
    deadline = time.time() + 0.05
    for i in range(1000):
        scheduler.schedule(i, deadline + i * 1e-6)

    await wait_until(lambda: len(fired) == 1000)
    assert scheduler.wakeups <= 3  # not one per key
    assert sorted(fired) == list(range(1000))


@pytest.fixture
def leeway() -> float:
    return 0


@pytest.fixture
def settings(secret: str, leeway: float) -> AuthSettings:
    return AuthSettings(secret=secret, token_ttl=60, leeway=leeway)


@pytest.mark.gen_test
async def test_socket_gets_token_expired_and_is_disconnected_at_exp(
    http_server: Any, http_port: int, make_token: Callable[..., str], caplog: Any
) -> None:
    capture_logs(caplog)
    exp = int(time.time()) + 2
    token = make_token(exp=exp)
    async with connected_client(
        server_url(http_port), auth={"token": token}, record=("token_expired",)
    ) as result:
        assert result.connected
        payload = await result.next_event(
            "token_expired", timeout=exp - time.time() + 2
        )
        await result.until_disconnected(timeout=2)

    assert time.time() >= exp
    assert payload == refusal(TokenExpiredError)
    assert_logged(caplog, "socket disconnected", "code=token_expired")
    assert_no_token_logged(caplog, token)


@pytest.mark.gen_test
async def test_expiry_timer_is_cancelled_when_the_socket_disconnects(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    authenticator = authenticator_for(sio)
    async with connected_client(
        server_url(http_port), auth={"token": make_token()}
    ) as result:
        assert result.connected and len(authenticator.expiry) == 1
        await result.client.disconnect()
        await wait_until(lambda: len(authenticator.expiry) == 0)

    assert len(authenticator.live) == 0


@pytest.mark.parametrize("leeway", [30])
@pytest.mark.gen_test
async def test_expiry_deadline_is_exp_plus_leeway(
    http_server: Any,
    http_port: int,
    sio: Any,
    make_token: Callable[..., str],
    leeway: float,
) -> None:
    authenticator = authenticator_for(sio)
    exp = int(time.time()) + 60
    async with connected_client(
        server_url(http_port), auth={"token": make_token(exp=exp)}
    ) as result:
        assert result.connected
        [(sid, namespace)] = list(authenticator.live)
        assert authenticator.expiry.deadline((sid, namespace)) == exp + leeway
