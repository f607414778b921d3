"""A request budget: a token bucket that spaces requests out instead of letting them burst."""

from __future__ import annotations

import asyncio
import math
import time

from wrk_provider.client.errors import WrkInvalidInputError


class RequestBudget:
    """At most ``rate`` requests a second on average, with bursts of at most ``burst``.

    Every request a client sends, retries included, first takes a token; when none is left
    the caller waits for the next. Shared by everything that uses one client.
    """

    def __init__(self, rate: float, burst: float | None = None) -> None:
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0:
            raise WrkInvalidInputError(
                f"max_requests_per_second={rate!r} must be a number above zero."
            )
        if not math.isfinite(rate):
            raise WrkInvalidInputError(f"max_requests_per_second={rate!r} must be finite.")
        self.rate = float(rate)
        self.burst = max(1.0, float(burst) if burst is not None else self.rate)
        self._tokens = self.burst
        self._stamp = time.monotonic()
        self._lock: asyncio.Lock | None = None
        self.waited = 0.0

    def __repr__(self) -> str:
        return f"RequestBudget(rate={self.rate:g}, burst={self.burst:g})"

    async def acquire(self) -> None:
        """Take one token, waiting for it when the bucket is empty."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            self._refill()
            if self._tokens < 1:
                pause = (1 - self._tokens) / self.rate
                self.waited += pause
                await asyncio.sleep(pause)
                self._refill()
            self._tokens -= 1

    def _refill(self) -> None:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
