"""TaskSet: fire-and-forget tasks kept referenced, each failure logged once."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from tornado_socketio_jwt.task_set import TaskSet


@pytest.mark.gen_test
async def test_a_task_is_held_until_done_then_let_go() -> None:
    tasks, release = TaskSet("work"), asyncio.Event()
    done: list[str] = []

    async def work() -> None:
        await release.wait()
        done.append("ran")

    tasks.spawn(work())
    gc.collect()  # the loop holds tasks weakly: only the set keeps this one
    assert len(tasks) == 1
    release.set()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert done == ["ran"] and len(tasks) == 0


@pytest.mark.gen_test
async def test_a_failure_is_logged_once_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="tornado_socketio_jwt")
    tasks = TaskSet("expiry disconnects")

    async def fail() -> None:
        raise RuntimeError("boom")

    task = tasks.spawn(fail())
    await asyncio.gather(task, return_exceptions=True)
    await asyncio.sleep(0)
    failures = [r for r in caplog.records if "expiry disconnects failed" in r.message]
    assert len(failures) == 1 and failures[0].exc_info is not None
    assert len(tasks) == 0


@pytest.mark.gen_test
async def test_cancel_ends_every_running_task_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="tornado_socketio_jwt")
    tasks = TaskSet("work")
    for _ in range(3):
        tasks.spawn(asyncio.sleep(60))
    await tasks.cancel()
    await asyncio.sleep(0)
    assert len(tasks) == 0 and not caplog.records
