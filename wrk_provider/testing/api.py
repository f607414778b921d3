"""From one parsed HTTP request to its reply: faults, rate limit, auth, routes, request log."""

from __future__ import annotations

import hmac
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, unquote

from wrk_provider.testing.dialects import BadQuery, Dialect, Reply
from wrk_provider.testing.faults import FaultFields, FaultPlan, RateLimiter, route_pattern
from wrk_provider.testing.state import Action, Store

PREFIX = "/api/v1"
LOG_LIMIT = 100_000


@dataclass(frozen=True)
class RecordedRequest:
    """One request the simulator received, and the status it answered (0 when dropped)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int
    time: float
    body: bytes = field(default=b"", repr=False)


def count_requests(log: Iterable[RecordedRequest], method: str | None, path: str | None) -> int:
    """Count the requests with this method and a path equal to, or matching, ``path``."""
    pattern = route_pattern(f"{method or '*'} {path or '*'}")
    return sum(1 for item in log if pattern.fullmatch(f"{item.method} {item.path}"))


@dataclass
class Api:
    """The request pipeline; every step runs under the simulator's one lock.

    The request log keeps the latest ``LOG_LIMIT`` requests, so a long-running server stays small.
    """

    lock: threading.Lock
    store: Store
    dialect: Dialect
    api_key: str = field(repr=False)
    auth_scheme: str = "Api-Key"
    action_delay: float = 0.0
    limiter: RateLimiter | None = None
    retry_after_header: bool = True
    faults: FaultPlan = field(default_factory=FaultPlan)
    log: deque[RecordedRequest] = field(default_factory=lambda: deque(maxlen=LOG_LIMIT))

    def __post_init__(self) -> None:
        self._scheme = self.auth_scheme.lower()
        self._key = self.api_key.encode()

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        """Answer one request and record it."""
        arrived = time.time()
        raw_path, _, raw_query = target.partition("?")
        path = unquote(raw_path) if "%" in raw_path else raw_path
        if len(path) > 1:
            path = path.rstrip("/")
        routed = path == PREFIX or path.startswith(PREFIX + "/")
        if routed:
            path = path[len(PREFIX) :] or "/"
        query = dict(parse_qsl(raw_query, keep_blank_values=True)) if raw_query else {}

        with self.lock:
            self.store.apply_due()
            fault = self.faults.pick(method, path)
            if fault is None:
                reply = self._answer(method, path, routed, query, headers, body)
            else:
                reply = self._fault_reply(fault, method, path, routed, query, headers, body)
            status = 0 if reply.drop else reply.status
            self.log.append(RecordedRequest(method, path, query, headers, status, arrived, body))
        return reply

    def _fault_reply(
        self,
        fault: FaultFields,
        method: str,
        path: str,
        routed: bool,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
    ) -> Reply:
        if fault.drop:
            return Reply(0, delay=fault.delay, drop=True)
        status = 200 if fault.status is None and fault.body is not None else fault.status
        if status is None:
            reply = self._answer(method, path, routed, query, headers, body)
            return replace(reply, delay=fault.delay)

        extra: list[tuple[str, str]] = []
        if fault.retry_after is not None:
            extra.append(("Retry-After", fault.retry_after))
        if fault.location is not None:
            extra.append(("Location", fault.location))
        if fault.body is not None:
            reply = Reply(status, fault.body, fault.content_type)
        elif status >= 400:
            reply = self.dialect.error(status, f"Injected fault: HTTP {status}")
        else:
            reply = Reply(status)
        return replace(reply, headers=tuple(extra), delay=fault.delay)

    def _answer(
        self,
        method: str,
        path: str,
        routed: bool,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
    ) -> Reply:
        if self.limiter is not None:
            wait = self.limiter.take()
            if wait:
                reply = self.dialect.error(
                    429,
                    f"Rate limit of {self.limiter.rate:g} requests per second exceeded; "
                    f"retry in {wait} s",
                )
                if self.retry_after_header:
                    reply = replace(reply, headers=(("Retry-After", str(wait)),))
                return reply

        if not self._authorised(headers.get("authorization", "")):
            reply = self.dialect.error(
                401, f"Missing or invalid API key: send 'Authorization: {self.auth_scheme} <key>'"
            )
            return replace(reply, headers=(("WWW-Authenticate", self.auth_scheme),))

        found = self._dispatch(method, path, query, body) if routed else None
        if found is None:
            return self.dialect.error(404, f"No route {method} {PREFIX if routed else ''}{path}")
        return found

    def _authorised(self, header: str) -> bool:
        scheme, _, key = header.strip().partition(" ")
        if scheme.lower() != self._scheme:
            return False
        return hmac.compare_digest(key.strip().encode("utf-8", "replace"), self._key)

    def _dispatch(self, method: str, path: str, query: dict[str, str], body: bytes) -> Reply | None:
        """Answer a request on a known route; None when no route matches."""
        parts = path.strip("/").split("/")
        dialect, store = self.dialect, self.store
        try:
            if parts[0] == "launch":
                if len(parts) == 1 and method == "GET":
                    return dialect.list_launches(store, query)
                if len(parts) == 2 and method == "GET" and dialect.has_get_launch:
                    return dialect.get_launch(store, parts[1])
                if len(parts) == 3 and method == "POST" and parts[2] in ("pause", "resume"):
                    action: Action = "pause" if parts[2] == "pause" else "resume"
                    return dialect.act(store, parts[1], action, self.action_delay)
            elif (
                method == "POST"
                and len(parts) == 3
                and parts[0] == "wrkflow"
                and parts[2] == "launch"
            ):
                return dialect.start_launch(store, parts[1], body)
        except BadQuery as exc:
            return dialect.error(400, str(exc))
        return None
