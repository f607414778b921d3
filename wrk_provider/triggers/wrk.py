"""``WrkLaunchTrigger``: waits in the triggerer until a Wrk launch is completed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from wrk_provider.client.config import launch_id_text, positive_number
from wrk_provider.client.errors import (
    WrkAuthenticationError,
    WrkError,
    WrkInvalidInputError,
    WrkNotFoundError,
)
from wrk_provider.triggers.poller import LaunchPoller, Subscription
from wrk_provider.verdict import check_max_consecutive_failures, check_max_errors, judge

DEFAULT_MAX_CONSECUTIVE_FAILURES = 5


class WrkLaunchTrigger(BaseTrigger):
    """Polls one launch until it is completed, fails its wait, or the deadline passes.

    It yields exactly one event: ``{"status": "success", "launch": {...}}``, or
    ``{"status": "timeout" | "failed" | "error", "message": ...}``. Each request is retried by
    the client; only ``max_consecutive_failures`` failed polls in a row end the wait.

    :param launch_id: the launch to wait for.
    :param wrk_conn_id: the Wrk connection.
    :param poll_interval: seconds between polls.
    :param end_time: the deadline, as epoch seconds.
    :param max_errors: fail once the launch has more errors than this; None for no limit.
    :param fail_on_paused: fail if the launch is paused.
    :param max_consecutive_failures: failed polls in a row that end the wait.
    :param wrkflow_uuid: the launch's wrkflow, if known: it lets the triggers of one wrkflow
        share listing requests. It never changes the outcome.
    :param first_look_at: the earliest first look, as epoch seconds: the sensor that defers
        has just looked, so the trigger waits one interval before it looks again.

    All triggers of one connection in a triggerer share one client and one poller
    (:mod:`wrk_provider.triggers.poller`), which spends the connection's request budget.
    """

    def __init__(
        self,
        launch_id: int | str,
        wrk_conn_id: str,
        poll_interval: float,
        end_time: float,
        max_errors: int | None = None,
        fail_on_paused: bool = False,
        max_consecutive_failures: int = DEFAULT_MAX_CONSECUTIVE_FAILURES,
        wrkflow_uuid: str | None = None,
        first_look_at: float | None = None,
    ) -> None:
        super().__init__()
        self.launch_id = launch_id_text(launch_id)
        self.wrk_conn_id = wrk_conn_id
        self.poll_interval = positive_number(poll_interval, "poll_interval", 60.0)
        self.end_time = float(end_time)
        self.max_errors = check_max_errors(max_errors)
        self.fail_on_paused = bool(fail_on_paused)
        self.max_consecutive_failures = check_max_consecutive_failures(max_consecutive_failures)
        self.wrkflow_uuid = wrkflow_uuid
        self.first_look_at = None if first_look_at is None else float(first_look_at)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "launch_id": self.launch_id,
                "wrk_conn_id": self.wrk_conn_id,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
                "max_errors": self.max_errors,
                "fail_on_paused": self.fail_on_paused,
                "max_consecutive_failures": self.max_consecutive_failures,
                "wrkflow_uuid": self.wrkflow_uuid,
                "first_look_at": self.first_look_at,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        event = await self._wait()
        yield TriggerEvent(event)

    async def _wait(self) -> dict[str, Any]:
        from wrk_provider.hooks.wrk import WrkHook

        poller = LaunchPoller.for_connection(
            self.wrk_conn_id, WrkHook(self.wrk_conn_id).get_async_conn
        )
        self.log.info(
            "Waiting for launch %s to complete, looking every %g s.",
            self.launch_id,
            self.poll_interval,
        )
        async with poller.subscribe(
            self.launch_id, self.poll_interval, self.wrkflow_uuid, not_before=self.first_look_at
        ) as subscription:
            return await self._follow(subscription)

    async def _follow(self, subscription: Subscription) -> dict[str, Any]:
        failures = 0
        refused_key = False
        last_seen: tuple[Any, ...] | None = None
        while True:
            remaining = self.end_time - time.time()
            try:
                if remaining <= 0:
                    raise asyncio.TimeoutError
                launch = await asyncio.wait_for(subscription.next(), remaining)
            except asyncio.TimeoutError:
                return self._event(
                    "timeout",
                    f"Launch {self.launch_id} did not complete before the sensor's timeout.",
                )
            except WrkAuthenticationError as error:
                if refused_key:
                    return self._event("failed", str(error))
                # A key replaced in the connection is read again for the next look; only a
                # refusal of the key read afresh ends the wait.
                refused_key = True
                self.log.warning(
                    "Wrk refused the key for launch %s; reading the connection again for the "
                    "next look: %s",
                    self.launch_id,
                    error,
                )
                continue
            except (WrkNotFoundError, WrkInvalidInputError) as error:
                return self._event("failed", str(error))
            except WrkError as error:
                failures += 1
                self.log.warning(
                    "Look %d of %d in a row failed for launch %s: %s",
                    failures,
                    self.max_consecutive_failures,
                    self.launch_id,
                    error,
                )
                if failures >= self.max_consecutive_failures:
                    return self._event(
                        "error",
                        f"Gave up waiting for launch {self.launch_id} after {failures} failed "
                        f"looks in a row; the last: {error}",
                    )
                continue

            failures = 0
            refused_key = False
            seen = (launch.status, launch.num_errors)
            if seen != last_seen:
                self.log.info("%s.", launch.summary())
                last_seen = seen
            verdict = judge(launch, max_errors=self.max_errors, fail_on_paused=self.fail_on_paused)
            if verdict.failure is not None:
                return self._event("failed", verdict.failure)
            if verdict.done:
                self.log.info("Launch %s completed.", self.launch_id)
                return {
                    "status": "success",
                    "launch_id": self.launch_id,
                    "launch": launch.to_dict(),
                    "message": f"{launch.summary()}.",
                }

    def _event(self, status: str, message: str) -> dict[str, Any]:
        log = self.log.info if status == "timeout" else self.log.error
        log("%s", message)
        return {"status": status, "launch_id": self.launch_id, "message": message}
