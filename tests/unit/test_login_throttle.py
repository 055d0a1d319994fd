"""The failed-login throttle alone: windows, limits per address and per login, and bounded memory."""

from __future__ import annotations

from connector.services.login_throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.at = 50.0

    def __call__(self) -> float:
        return self.at


def test_limits_per_address_and_per_login_with_their_window() -> None:
    clock = Clock()
    throttle = LoginThrottle(per_address=3, per_login=2, window_seconds=60, max_entries=100, clock=clock)
    throttle.failed("10.0.0.1", "alice")
    assert throttle.retry_after("10.0.0.1", "bob") is None
    clock.at += 20
    throttle.failed("10.0.0.2", " Alice")  # the same login, as accounts normalises it
    assert throttle.retry_after("10.0.0.3", "ALICE") == 40  # the window began at the first failure
    assert throttle.retry_after("10.0.0.1", "bob") is None
    throttle.failed("10.0.0.1", "carol")
    throttle.failed("10.0.0.1", "dave")
    assert throttle.retry_after("10.0.0.1", "erin") == 40
    clock.at += 40
    assert throttle.retry_after("10.0.0.1", "alice") is None  # both windows over
    throttle.failed("10.0.0.1", "alice")
    assert throttle.retry_after("10.0.0.1", "alice") is None  # a fresh count


def test_a_success_clears_its_login_not_its_address() -> None:
    throttle = LoginThrottle(per_address=2, per_login=2, window_seconds=60, max_entries=100, clock=Clock())
    throttle.failed("10.0.0.1", "alice")
    throttle.failed("10.0.0.9", "alice")
    throttle.failed("10.0.0.1", "bob")
    throttle.succeeded("alice")
    assert throttle.retry_after("10.0.0.2", "alice") is None
    assert throttle.retry_after("10.0.0.1", "zed") is not None


def test_memory_is_bounded_and_the_least_recently_failed_go_first() -> None:
    throttle = LoginThrottle(per_address=2, per_login=1000, window_seconds=60, max_entries=100, clock=Clock())
    throttle.failed("10.0.0.1", "x")
    throttle.failed("10.0.0.1", "x")
    for n in range(1000):
        throttle.failed(f"192.0.2.{n}", f"user{n}")
        if n % 10 == 0:
            throttle.failed("10.0.0.1", "x")  # kept recent: never forgotten
        assert len(throttle) <= 100
    assert throttle.retry_after("10.0.0.1", "y") is not None
    assert throttle.retry_after("192.0.2.0", "z") is None
