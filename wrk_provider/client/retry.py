"""When to try a request again, and how long to wait first."""

from __future__ import annotations

import contextlib
import datetime
import math
import random
import time
from dataclasses import dataclass
from typing import Any

from wrk_provider.client.errors import (
    WrkError,
    WrkInvalidInputError,
    WrkRateLimitedError,
    WrkServerError,
    WrkUnreachableError,
)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How many times a request is tried, and the bounds on the waits between tries.

    The wait before try ``n + 1`` is drawn at random between zero and
    ``min(max_wait, initial_wait * 2 ** (n - 1))`` (exponential backoff, full jitter), unless
    the server sent ``Retry-After``, which is honoured up to ``max_wait``. With the defaults a
    request that keeps failing gives up after 5 tries, having waited at most about 15 s of
    backoff, or up to 4 x 30 s when the server asks for long waits with ``Retry-After``.
    """

    max_attempts: int = 5
    initial_wait: float = 1.0
    max_wait: float = 30.0

    @classmethod
    def create(
        cls,
        max_retries: object = None,
        initial_wait: object = None,
        max_wait: object = None,
    ) -> RetryPolicy:
        default = cls()
        attempts = default.max_attempts
        if max_retries is not None:
            retries = _number(max_retries, "max_retries")
            if not 0 <= retries <= 20 or retries != int(retries):
                raise WrkInvalidInputError(
                    f"max_retries={max_retries!r} must be a whole number from 0 to 20."
                )
            attempts = int(retries) + 1
        first = (
            default.initial_wait if initial_wait is None else _number(initial_wait, "retry_wait")
        )
        cap = default.max_wait if max_wait is None else _number(max_wait, "retry_max_wait")
        if first < 0 or cap < 0 or not math.isfinite(first) or not math.isfinite(cap):
            raise WrkInvalidInputError(
                f"retry_wait={initial_wait!r} and retry_max_wait={max_wait!r} must be seconds, "
                "zero or more."
            )
        return cls(max_attempts=attempts, initial_wait=first, max_wait=max(cap, first))

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after try number ``attempt`` (from 1) failed."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_wait)
        ceiling = min(self.max_wait, self.initial_wait * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)


def _number(value: object, name: str) -> float:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise WrkInvalidInputError(f"{name}={value!r} is not a number.")
    return float(value)


def is_retryable(error: BaseException) -> bool:
    """Connection trouble, timeouts, 429 and 500/502/503/504 are tried again; nothing else."""
    if isinstance(error, WrkUnreachableError):
        return True
    if isinstance(error, (WrkRateLimitedError, WrkServerError)):
        return error.status_code in RETRYABLE_STATUSES
    return False


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        import email.utils

        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.timezone.utc)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def retry_options(policy: RetryPolicy) -> dict[str, Any]:
    """The tenacity settings that carry out ``policy``, for ``Retrying`` and ``AsyncRetrying``."""
    import tenacity

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        return policy.backoff(
            state.attempt_number, retry_after if isinstance(retry_after, float) else None
        )

    return {
        "stop": tenacity.stop_after_attempt(policy.max_attempts),
        "wait": wait,
        "retry": tenacity.retry_if_exception(is_retryable),
        "reraise": True,
    }


def gave_up(error: WrkError, attempts: int) -> WrkError:
    """The last error, its message saying how many tries were made."""
    if attempts > 1:
        error.message = f"{error.message} Gave up after {attempts} attempts."
        error.args = (error.message,)
        error.attempts = attempts
    return error
