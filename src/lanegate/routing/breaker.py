"""A per-target circuit breaker, so a dead target does not cost every request a timeout.

Closed: calls pass. After ``failure_threshold`` consecutive failures it opens: calls are refused without
being tried for ``reset_seconds``. Then one trial call passes (half-open); its success closes the breaker,
its failure opens it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class CircuitBreaker:
    failure_threshold: int = 3
    reset_seconds: float = 10.0
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    opened_at: float | None = None
    trial_in_flight: bool = field(default=False)

    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        if self.clock() - self.opened_at >= self.reset_seconds:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        """Whether a call may be tried now; in half-open state only one trial at a time passes."""
        state = self.state()
        if state == "closed":
            return True
        if state == "half_open" and not self.trial_in_flight:
            self.trial_in_flight = True
            return True
        return False

    def retry_in(self) -> float:
        if self.opened_at is None:
            return 0.0
        return max(0.0, self.reset_seconds - (self.clock() - self.opened_at))

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self.trial_in_flight = False

    def record_failure(self) -> None:
        self.failures += 1
        if self.trial_in_flight or self.failures >= self.failure_threshold:
            self.opened_at = self.clock()
        self.trial_in_flight = False

    def release(self) -> None:
        """Give back a trial slot taken by :meth:`allow` but never used (the call was not made)."""
        self.trial_in_flight = False
