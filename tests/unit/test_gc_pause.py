"""gc_paused: nests, is thread-safe, and restores the collector only as it found it."""

from __future__ import annotations

import gc
import threading
from decimal import Decimal

import pytest

from connector.aggregation import engine
from connector.gc_pause import gc_paused
from connector.stages import Stage


@pytest.fixture(autouse=True)
def _collector_back_on():
    yield
    gc.enable()


def test_nested_pauses_restore_the_collector_at_the_end() -> None:
    gc.enable()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer section is still running
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


def test_overlapping_threads_leave_the_collector_on() -> None:
    gc.enable()
    inside, release = threading.Barrier(3), threading.Event()

    def work() -> None:
        with gc_paused():
            inside.wait()
            release.wait()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    inside.wait()
    assert not gc.isenabled()
    release.set()
    for t in threads:
        t.join()
    assert gc.isenabled()


def test_a_large_bill_of_materials_is_computed_with_the_collector_paused(monkeypatch) -> None:
    seen: list[bool] = []
    real = engine._compute

    def spy(*args):
        seen.append(gc.isenabled())
        return real(*args)

    monkeypatch.setattr(engine, "_compute", spy)
    gc.enable()
    line = engine.UpstreamInput(Decimal("1"), "kilogram", "kilogram", {Stage.MAIN_PRODUCTION: Decimal("2")})
    small = engine.compute_footprint([], [line] * 10)
    large = engine.compute_footprint([], [line] * engine.GC_PAUSE_LINES)
    assert seen == [True, False] and gc.isenabled()
    assert small.total * engine.GC_PAUSE_LINES == large.total * 10
