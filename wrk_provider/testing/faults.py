"""Faults the simulator can inject, and the rate limit it can enforce."""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

_HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    b"<body><h1>502 Bad Gateway</h1><p>The upstream server did not answer.</p></body></html>\n"
)
_MALFORMED = b'{"totalCount": 1, "launches": [{"launch_id": 10'


@dataclass(frozen=True)
class FaultFields:
    """The fields of a :class:`Fault`; read faults through this type."""

    status: int | None = None
    retry_after: str | None = None
    delay: float = 0.0
    body: bytes | None = None
    content_type: str = "application/json"
    drop: bool = False
    location: str | None = None
    times: int = 1


class Fault(FaultFields):
    """One misbehaviour of the server, applied to the next ``times`` matching requests.

    With ``status`` and ``body`` both None the normal answer is sent, after ``delay``
    seconds. A ``body`` without a ``status`` is sent with 200. A ``status`` of 400 or more
    without a ``body`` gets an error body in the server's dialect.
    ``times`` of 0 or less applies the fault forever. The constructors ``drop`` and
    ``body`` share their names with fields: on an instance those names read the fields.
    """

    __slots__ = ()

    @classmethod
    def error(cls, status: int, retry_after: str | None = None, times: int = 1) -> Fault:
        """An error answer, with a ``Retry-After`` header when given."""
        return cls(status=status, retry_after=retry_after, times=times)

    @classmethod
    def drop(cls, times: int = 1) -> Fault:  # type: ignore[override]
        """Close the connection without answering."""
        return cls(drop=True, times=times)

    @classmethod
    def slow(cls, seconds: float, times: int = 1) -> Fault:
        """The normal answer, ``seconds`` late."""
        return cls(delay=seconds, times=times)

    @classmethod
    def html(cls, status: int = 502, times: int = 1) -> Fault:
        """An HTML error page, as a proxy in front of the API would send."""
        return cls(status=status, body=_HTML_PAGE, content_type="text/html", times=times)

    @classmethod
    def malformed(cls, times: int = 1) -> Fault:
        """A 200 answer whose body is cut-off JSON."""
        return cls(status=200, body=_MALFORMED, times=times)

    @classmethod
    def body(cls, raw: bytes, status: int = 200, times: int = 1) -> Fault:  # type: ignore[override]
        """An answer with exactly this raw body."""
        return cls(status=status, body=raw, times=times)

    @classmethod
    def redirect(cls, location: str, status: int = 307, times: int = 1) -> Fault:
        """A redirect to ``location``."""
        return cls(status=status, location=location, body=b"", times=times)


def default_random_kinds(slow_delay: float = 2.0) -> tuple[Fault, ...]:
    """The mix of faults drawn from when random faults are on."""
    return (
        Fault.error(500),
        Fault.error(502),
        Fault.error(503),
        Fault.error(429),
        Fault.error(429, retry_after="1"),
        Fault.slow(slow_delay),
        Fault.drop(),
        Fault.html(502),
    )


@lru_cache(maxsize=256)
def route_pattern(route: str) -> re.Pattern[str]:
    """Compile ``"METHOD /path"`` where ``{name}`` is one segment and ``*`` is anything."""
    route = route.strip()
    if route == "*":
        return re.compile(r"[A-Z]+ .*")
    method, _, path = route.partition(" ")
    if not path:
        method, path = "*", method
    path = path.strip()
    if path.startswith("/api/v1/"):
        path = path[len("/api/v1") :]
    parts = re.split(r"(\{[^}/]*\}|\*)", path.rstrip("/") or "/")
    regex = "".join(
        "[^/]+" if part.startswith("{") else ".*" if part == "*" else re.escape(part)
        for part in parts
    )
    method_regex = "[A-Z]+" if method == "*" else re.escape(method.upper())
    return re.compile(f"{method_regex} {regex}")


@dataclass
class _Scripted:
    pattern: re.Pattern[str]
    fault: Fault
    left: int


class FaultPlan:
    """Scripted faults, queued per route, and optional random ones."""

    def __init__(self) -> None:
        self._scripted: list[_Scripted] = []
        self._rate = 0.0
        self._rng = random.Random(1)
        self._kinds: tuple[Fault, ...] = ()

    def inject(self, route: str, faults: Sequence[Fault]) -> None:
        """Queue faults for requests matching ``route``, in order."""
        pattern = route_pattern(route)
        for fault in faults:
            self._scripted.append(_Scripted(pattern, fault, fault.times))

    def set_random(self, rate: float, seed: int, kinds: Sequence[Fault]) -> None:
        """Give each request a ``rate`` chance of one of ``kinds``."""
        if not 0 <= rate <= 1:
            raise ValueError(f"rate must be between 0 and 1, got {rate!r}")
        if rate and not kinds:
            raise ValueError("random faults need at least one kind")
        self._rate = rate
        self._rng = random.Random(seed)
        self._kinds = tuple(kinds)

    def clear(self) -> None:
        """Drop every scripted fault and turn random faults off."""
        self._scripted.clear()
        self._rate = 0.0

    def pick(self, method: str, path: str) -> Fault | None:
        """Return the fault for this request, if any, using it up."""
        if self._scripted:
            key = f"{method} {path}"
            for index, entry in enumerate(self._scripted):
                if entry.pattern.fullmatch(key):
                    if entry.left > 0:
                        entry.left -= 1
                        if entry.left == 0:
                            del self._scripted[index]
                    return entry.fault
        if self._rate and self._rng.random() < self._rate:
            return self._rng.choice(self._kinds)
        return None


class RateLimiter:
    """A token bucket of ``rate`` requests a second, holding at most ``rate`` tokens."""

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError(f"rate_limit must be positive, got {rate!r}")
        self.rate = rate
        self._tokens = rate
        self._last = time.monotonic()

    def take(self) -> int:
        """Take a token; return 0 when allowed, else the seconds to wait (at least 1)."""
        now = time.monotonic()
        self._tokens = min(self.rate, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0
        return max(1, math.ceil((1.0 - self._tokens) / self.rate))
