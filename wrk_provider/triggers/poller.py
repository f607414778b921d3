"""One poller per connection in a triggerer, so that a thousand waits cost about one.

Every ``WrkLaunchTrigger`` of a connection in this process subscribes to the same poller. The
poller owns one async client (and so one request budget), wakes when a launch is due, and
learns the state of every due launch with the fewest requests: single reads when few are due,
a listing narrowed to their wrkflow when that takes fewer pages. Due times are aligned to a
grid of each trigger's interval, so waits that started at different moments share rounds,
and no launch is looked at again sooner than its trigger's interval after the last answer
about it (less a slack of 4% of the interval, so that a slow answer keeps its grid point).
A launch missing from a listing is read on its own before anything is concluded about it.

The poller keeps nothing that matters beyond its subscriptions: what it knows of a launch's
wrkflow and of the cost of a listing only steers the choice of requests, never a verdict.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from wrk_provider.client.errors import WrkAuthenticationError, WrkError, WrkInvalidInputError
from wrk_provider.client.models import Launch, LaunchPage

log = logging.getLogger(__name__)

ClientFactory = Callable[[], Awaitable[Any]]

#: How long a round waits for other subscriptions made in the same instant to join it.
GATHER_DELAY = 0.05
#: The share of its interval by which a launch's next look may come early, so that a look
#: delayed by the network or the request budget does not push the launch off the shared grid.
SLACK = 0.04


@dataclass(eq=False)
class Subscription:
    """One trigger's interest in one launch."""

    launch_id: str
    interval: float
    wake: asyncio.Event = field(repr=False)
    due: float = 0.0
    waiter: asyncio.Future[Launch] | None = None
    last_polled: float | None = field(default=None, repr=False)

    async def next(self) -> Launch:
        """The launch as the next round that includes it saw it; raises what that round met."""
        self.waiter = asyncio.get_running_loop().create_future()
        self.wake.set()
        return await self.waiter


@dataclass
class _Known:
    """What earlier looks told about a launch: it steers the choice of requests, nothing else."""

    wrkflow_uuid: str | None = None
    start_date: float | None = None


class LaunchPoller:
    """Polls the launches of one connection for every subscribed trigger in this process."""

    _registry: dict[tuple[str, int], LaunchPoller] = {}

    def __init__(self, conn_id: str, client_factory: ClientFactory) -> None:
        self.conn_id = conn_id
        self._client_factory = client_factory
        self._client: Any = None
        self._subscriptions: set[Subscription] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listing_cost: dict[str | None, int] = {}
        self._known: dict[str, _Known] = {}
        self.rounds = 0
        self.requests = 0

    @classmethod
    def for_connection(cls, conn_id: str, client_factory: ClientFactory) -> LaunchPoller:
        """The poller of this connection in the running event loop, made on first use."""
        key = (conn_id, id(asyncio.get_running_loop()))
        poller = cls._registry.get(key)
        if poller is None or poller._closed:
            poller = cls(conn_id, client_factory)
            cls._registry[key] = poller
        return poller

    @property
    def _closed(self) -> bool:
        return self._task is not None and self._task.done()

    @contextlib.asynccontextmanager
    async def subscribe(
        self,
        launch_id: str,
        interval: float,
        wrkflow_uuid: str | None = None,
        *,
        not_before: float | None = None,
    ) -> AsyncIterator[Subscription]:
        """Watch a launch for as long as the ``async with`` block runs; its first look comes
        at once, or at ``not_before`` (epoch seconds) when that is later."""
        due = max(time.time(), not_before or 0.0)
        subscription = Subscription(launch_id, interval, self._wake, due=due)
        if wrkflow_uuid is not None:
            self._known.setdefault(launch_id, _Known(wrkflow_uuid))
        self._subscriptions.add(subscription)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        self._wake.set()
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)
            if subscription.waiter is not None and not subscription.waiter.done():
                subscription.waiter.cancel()
            if not any(s.launch_id == launch_id for s in self._subscriptions):
                self._known.pop(launch_id, None)
            self._wake.set()

    # The rounds.

    async def _run(self) -> None:
        while True:
            try:
                await self._serve()
            finally:
                await self._close_client()
            if not self._subscriptions:
                return

    async def _serve(self) -> None:
        while self._subscriptions:
            if not self._due_now():
                await self._sleep_until_due()
                continue
            await asyncio.sleep(GATHER_DELAY)
            due = self._due_now()
            if not due:
                continue
            try:
                await self._round(due)
            except Exception as error:  # a bug here must fail the waits, never hang them
                log.exception("A polling round for connection %s failed", self.conn_id)
                for subscription in due:
                    if subscription.waiter is not None and not subscription.waiter.done():
                        subscription.waiter.set_exception(error)

    def _waiting(self) -> list[Subscription]:
        return [s for s in self._subscriptions if s.waiter is not None and not s.waiter.done()]

    def _due_now(self) -> list[Subscription]:
        now = time.time()
        return [s for s in self._waiting() if s.due <= now]

    async def _sleep_until_due(self) -> None:
        self._wake.clear()
        waiting = self._waiting()
        timeout = None
        if waiting:
            timeout = max(0.0, min(s.due for s in waiting) - time.time())
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def _round(self, due: list[Subscription]) -> None:
        self.rounds += 1
        by_launch: dict[str, list[Subscription]] = {}
        for subscription in due:
            by_launch.setdefault(subscription.launch_id, []).append(subscription)
        results: dict[str, Launch | BaseException] = {}
        looked_at: dict[str, float] = {}
        try:
            client = await self._get_client()
        except WrkError as error:
            results = dict.fromkeys(by_launch, error)
        except Exception as error:
            problem = WrkInvalidInputError(
                f"Connection {self.conn_id!r} could not be loaded: {error}"
            )
            results = dict.fromkeys(by_launch, problem)
        else:
            await self._look(client, list(by_launch), results, looked_at)
            if any(isinstance(outcome, WrkAuthenticationError) for outcome in results.values()):
                # The key may have been replaced in the connection: read it again next round.
                await self._close_client()

        now = time.time()
        for launch_id, subscriptions in by_launch.items():
            outcome = results.get(launch_id)
            if isinstance(outcome, Launch) and launch_id in self._wanted():
                self._known[launch_id] = _Known(outcome.wrkflow_uuid, outcome.start_timestamp)
            looked = looked_at.get(launch_id, now)
            for subscription in subscriptions:
                subscription.last_polled = looked
                subscription.due = _next_due(looked, subscription.interval)
                waiter = subscription.waiter
                if waiter is None or waiter.done():
                    continue
                if isinstance(outcome, Launch):
                    waiter.set_result(outcome)
                else:
                    waiter.set_exception(outcome or RuntimeError("no look was made"))

    def _wanted(self) -> set[str]:
        return {subscription.launch_id for subscription in self._subscriptions}

    async def _look(
        self,
        client: Any,
        launch_ids: list[str],
        results: dict[str, Launch | BaseException],
        looked_at: dict[str, float],
    ) -> None:
        groups: dict[str | None, list[str]] = {}
        for launch_id in launch_ids:
            known = self._known.get(launch_id)
            groups.setdefault(known.wrkflow_uuid if known else None, []).append(launch_id)
        sent_before = client.requests_sent
        singles: list[str] = []
        for wrkflow_uuid, members in groups.items():
            if len(members) > self._listing_cost.get(wrkflow_uuid, 1):
                await self._look_by_listing(client, wrkflow_uuid, members, results, looked_at)
            singles.extend(m for m in members if m not in results)
        await asyncio.gather(*(self._look_alone(client, m, results, looked_at) for m in singles))
        self.requests += client.requests_sent - sent_before

    async def _look_by_listing(
        self,
        client: Any,
        wrkflow_uuid: str | None,
        members: list[str],
        results: dict[str, Launch | BaseException],
        looked_at: dict[str, float],
    ) -> None:
        """List the wrkflow's launches (or the account's, when the wrkflow is not known yet),
        newest first, until every member is found, or until the pages still to read would
        cost more than reading the rest one by one."""
        wanted = set(members)
        starts = [self._known[m].start_date if m in self._known else None for m in members]
        filters: dict[str, Any] = {}
        if wrkflow_uuid is not None:
            filters["wrkflow_uuid"] = wrkflow_uuid
        if starts and None not in starts:
            filters["lower_start_date"] = math.floor(min(s for s in starts if s is not None))
        sent_before = client.requests_sent
        try:
            async with contextlib.aclosing(client.iter_pages(**filters)) as pages:
                async for page in pages:
                    answered = time.time()
                    for launch in page.launches:
                        if str(launch.launch_id) in wanted:
                            results[str(launch.launch_id)] = launch
                            looked_at[str(launch.launch_id)] = answered
                            wanted.discard(str(launch.launch_id))
                    if not wanted or _pages_left(page) > len(wanted):
                        break
        except WrkError as error:
            # A failure says nothing of what a listing costs: the next round lists again.
            log.warning("Listing the launches of wrkflow %s failed: %s", wrkflow_uuid, error)
        else:
            used = max(1, client.requests_sent - sent_before)
            self._listing_cost[wrkflow_uuid] = used + len(wanted)

    async def _look_alone(
        self,
        client: Any,
        launch_id: str,
        results: dict[str, Launch | BaseException],
        looked_at: dict[str, float],
    ) -> None:
        try:
            results[launch_id] = await client.get_launch(launch_id)
        except WrkError as error:
            results[launch_id] = error
        looked_at[launch_id] = time.time()

    async def _get_client(self) -> Any:
        if self._client is None:
            self._client = await self._client_factory()
        return self._client

    async def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def _pages_left(page: LaunchPage) -> float:
    if not page.is_paged or page.total_count is None:
        return 0.0
    assert page.page is not None and page.page_size is not None
    return max(0.0, math.ceil(page.total_count / page.page_size) - (page.page + 1))


def _next_due(looked: float, interval: float) -> float:
    """When a launch looked at ``looked`` is due again: the first multiple of ``interval`` (in
    epoch seconds) that lets the next round's requests leave at least one interval, less the
    slack, after this look's answer."""
    earliest = looked + interval * (1 - SLACK) - GATHER_DELAY
    return math.ceil(earliest / interval) * interval
