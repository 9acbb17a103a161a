"""The circuit breaker opens after consecutive failures, lets one trial through after the reset time."""

from __future__ import annotations

from lanegate.routing.breaker import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_threshold_then_half_opens_with_a_single_trial():
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=3, reset_seconds=10, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state() == "closed"
    breaker.record_failure()
    assert breaker.state() == "open" and not breaker.allow()
    clock.now = 10.5
    assert breaker.state() == "half_open"
    assert breaker.allow() and not breaker.allow()  # one trial at a time
    breaker.record_failure()
    assert breaker.state() == "open" and breaker.retry_in() == 10
    clock.now = 21
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state() == "closed" and breaker.allow()


def test_a_success_resets_the_failure_count():
    breaker = CircuitBreaker(failure_threshold=2)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state() == "closed"


def test_an_unused_trial_slot_is_given_back():
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, reset_seconds=1, clock=clock)
    breaker.record_failure()
    clock.now = 2
    assert breaker.allow()
    breaker.release()
    assert breaker.allow()
