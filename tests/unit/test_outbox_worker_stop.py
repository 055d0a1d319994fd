"""The outbox worker stops when asked, whatever it is doing at that moment (an app's shutdown awaits it)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from connector.exchange.worker import OutboxWorker

pytestmark = pytest.mark.asyncio


class _Idle(OutboxWorker):
    async def run_once(self, *, claim: bool = True) -> int:  # nothing to send: no database needed
        await asyncio.sleep(0)
        return 0


async def test_stop_ends_the_worker_even_when_a_wake_up_lands_with_it() -> None:
    # A wake-up in the same loop turn as the cancel: asyncio.wait_for on Python 3.11 returns the wake-up and swallows
    # the cancellation when both land together, and a worker sleeping in it then ran on while stop() waited for it
    # forever (a test network's shutdown hung once in CI). Every order of the two, a few loop turns apart.
    for wake_first in (True, False):
        for turns in range(4):
            worker = _Idle(None, SimpleNamespace(node_name="t"), None, None, poll_interval=30)  # type: ignore[arg-type]
            worker.start()
            for _ in range(3):
                await asyncio.sleep(0)  # the worker is asleep, waiting for a wake-up
            if wake_first:
                worker.wake()
            stopping = asyncio.ensure_future(worker.stop())
            for _ in range(turns):
                await asyncio.sleep(0)
            if not wake_first:
                worker.wake()
            done, _ = await asyncio.wait({stopping}, timeout=2)  # never cancels stop() (wait_for would)
            assert stopping in done, (wake_first, turns)
            assert worker._task is not None and worker._task.done()


async def test_stop_before_start_and_twice_is_harmless() -> None:
    worker = _Idle(None, SimpleNamespace(node_name="t"), None, None)  # type: ignore[arg-type]
    await worker.stop()
    worker = _Idle(None, SimpleNamespace(node_name="t"), None, None)  # type: ignore[arg-type]
    worker.start()
    await asyncio.sleep(0)
    await worker.stop()
    await worker.stop()
    assert worker._task is not None and worker._task.done()
