"""A per-principal token bucket: ``rate`` requests per second on average, bursts of up to ``burst``.

Buckets live in each worker process, so with N workers a principal may reach N times the rate.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last update)

    def retry_after(self, key: str) -> int | None:
        """Take one token for ``key``: ``None`` if allowed, else the whole seconds until one is available."""
        now = self._clock()
        tokens, last = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens >= 1:
            if len(self._buckets) > 100_000:  # a flood of principals: forget full buckets
                self._buckets = {k: v for k, v in self._buckets.items() if v[0] < self._burst - 1}
            self._buckets[key] = (tokens - 1, now)
            return None
        self._buckets[key] = (tokens, now)
        return max(1, math.ceil((1 - tokens) / self._rate))
