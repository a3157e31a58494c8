"""python-socketio's task per client event, started eagerly by the engine room:
a handler that does not wait finishes inline; one that waits goes on as a task."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from typing import Any

import pytest
import socketio

from tornado_socketio_jwt.sockets.engine import DONE, engine_for, start_eagerly

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("VAR", default="outer")


def test_python_socketio_starts_each_event_through_start_background_task() -> None:
    source = inspect.getsource(socketio.AsyncServer._handle_event)
    assert "self.start_background_task(" in source
    assert "self._handle_event_internal" in source
    assert inspect.iscoroutinefunction(socketio.AsyncServer._handle_event_internal)


@pytest.mark.gen_test
async def test_a_coroutine_that_does_not_wait_is_done_at_once() -> None:
    seen: list[int] = []

    async def quick() -> None:
        seen.append(1)

    assert start_eagerly(quick()) is DONE
    assert seen == [1]


@pytest.mark.gen_test
async def test_a_coroutine_that_waits_goes_on_as_a_task() -> None:
    gate = asyncio.Event()
    steps: list[str] = []

    async def slow() -> str:
        steps.append("started")
        await gate.wait()
        await asyncio.sleep(0)
        steps.append("finished")
        return "result"

    task = start_eagerly(slow())
    assert steps == ["started"]  # before anything else ran
    assert not task.done()
    gate.set()
    assert await asyncio.wait_for(task, 5) == "result"
    assert steps == ["started", "finished"]


@pytest.mark.gen_test
async def test_a_waiting_coroutine_can_be_cancelled() -> None:
    cleaned: list[bool] = []

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.append(True)

    task = start_eagerly(forever())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
    assert cleaned == [True]


@pytest.mark.gen_test
async def test_a_failure_is_a_failed_future_not_raised_into_the_caller() -> None:
    async def broken() -> None:
        raise ValueError("handler bug")

    failed = start_eagerly(broken())
    with pytest.raises(ValueError, match="handler bug"):
        failed.result()


@pytest.mark.gen_test
async def test_each_event_runs_in_a_context_of_its_own() -> None:
    async def sets() -> None:
        VAR.set("inner")
        await asyncio.sleep(0)
        assert VAR.get() == "inner"

    await asyncio.wait_for(start_eagerly(sets()), 5)
    assert VAR.get() == "outer"


@pytest.mark.gen_test
async def test_only_the_event_tasks_are_started_eagerly(sio: Any) -> None:
    engine_for(sio)
    started: list[str] = []

    async def background() -> None:
        started.append("ran")

    task = sio.start_background_task(background)
    assert started == []  # an ordinary task: it runs later
    await asyncio.wait_for(task, 5)
    assert started == ["ran"]
