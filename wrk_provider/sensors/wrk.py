"""``WrkLaunchSensor``: waits until a Wrk launch is completed."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

from wrk_provider._arguments import check_literal_launch_id
from wrk_provider.client.config import launch_id_text
from wrk_provider.client.errors import WrkNotFoundError
from wrk_provider.hooks.wrk import WrkHook
from wrk_provider.links.wrk import LAUNCH_URL_XCOM_KEY, WrkLaunchLink, launch_url
from wrk_provider.verdict import check_max_consecutive_failures, check_max_errors, judge

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context


class WrkLaunchSensor(BaseSensorOperator):
    """Wait until a Wrk launch is completed; return the final launch as a dict.

    The wait fails, naming the launch and the reason, when the launch does not exist, when it
    has more errors than ``max_errors`` (checked on every look), when it is paused and
    ``fail_on_paused`` is set, or when its status is one this provider does not know.

    :param launch_id: the launch to wait for (templated); an int or a string.
    :param wrk_conn_id: the Wrk connection (templated).
    :param max_errors: fail as soon as the launch has more errors than this; None for no limit.
    :param fail_on_paused: fail when the launch is paused instead of waiting for a resume.
    :param deferrable: wait in the triggerer, freeing the worker slot. Defaults to
        ``[operators] default_deferrable``.
    :param max_consecutive_failures: in deferrable mode, failed polls in a row (each already
        retried) that end the wait.

    ``poke_interval``, ``timeout``, ``mode`` and ``soft_fail`` work as for every sensor; the
    timeout is the same in every mode, and a deferred wait that reaches it fails as a sensor
    timeout (or is skipped, with ``soft_fail``).
    """

    template_fields: Sequence[str] = ("launch_id", "wrk_conn_id")
    operator_extra_links = (WrkLaunchLink(),)
    ui_color = "#e8f1fb"

    def __init__(
        self,
        *,
        launch_id: int | str,
        wrk_conn_id: str = WrkHook.default_conn_name,
        max_errors: int | None = None,
        fail_on_paused: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        max_consecutive_failures: int = 5,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if self.poke_interval <= 0:
            raise ValueError(f"poke_interval={self.poke_interval!r} must be above zero seconds.")
        check_literal_launch_id(launch_id)
        self.launch_id = launch_id
        self.wrk_conn_id = wrk_conn_id
        self.max_errors = check_max_errors(max_errors)
        self.fail_on_paused = fail_on_paused
        self.deferrable = deferrable
        self.max_consecutive_failures = check_max_consecutive_failures(max_consecutive_failures)
        self._last_seen: tuple[Any, ...] | None = None
        self._hook: WrkHook | None = None

    def execute(self, context: Context) -> Any:
        launch_id_text(self.launch_id)
        if not self.deferrable:
            return super().execute(context)

        try:
            looked = self.poke(context)
        except AirflowFailException as error:
            if self.soft_fail:
                raise AirflowSkipException(f"{error} Skipped, as soft_fail is set.") from error
            raise
        if looked.is_done:
            return looked.xcom_value
        wrkflow_uuid = looked.xcom_value["wrkflow_uuid"] if looked.xcom_value else None
        from wrk_provider.triggers.wrk import WrkLaunchTrigger

        self.log.info(
            "Launch %s is not completed yet; deferring the wait to the triggerer.", self.launch_id
        )
        self.defer(
            trigger=WrkLaunchTrigger(
                launch_id=launch_id_text(self.launch_id),
                wrk_conn_id=self.wrk_conn_id,
                poll_interval=self.poke_interval,
                end_time=time.time() + self.timeout,
                max_errors=self.max_errors,
                fail_on_paused=self.fail_on_paused,
                max_consecutive_failures=self.max_consecutive_failures,
                wrkflow_uuid=wrkflow_uuid,
                first_look_at=time.time() + self.poke_interval,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout + max(60.0, self.poke_interval)),
        )

    def poke(self, context: Context) -> PokeReturnValue:
        launch_id = launch_id_text(self.launch_id)
        hook = self._get_hook()
        if self._last_seen is None:
            context["ti"].xcom_push(
                key=LAUNCH_URL_XCOM_KEY, value=launch_url(hook.get_ui_url(), launch_id)
            )
        try:
            launch = hook.get_launch(launch_id)
        except WrkNotFoundError as error:
            raise AirflowFailException(str(error)) from None
        seen = (launch.status, launch.num_errors)
        if seen != self._last_seen:
            self.log.info("%s.", launch.summary())
            self._last_seen = seen

        verdict = judge(launch, max_errors=self.max_errors, fail_on_paused=self.fail_on_paused)
        if verdict.failure is not None:
            raise AirflowFailException(verdict.failure)
        if verdict.done:
            self.log.info("Launch %s completed.", launch_id)
        return PokeReturnValue(is_done=verdict.done, xcom_value=launch.to_dict())

    def _get_hook(self) -> WrkHook:
        """One hook, and so one HTTP session, for all the pokes this task instance makes."""
        if self._hook is None:
            self._hook = WrkHook(self.wrk_conn_id)
        return self._hook

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Carry out the trigger's event: the launch on success, an error on anything else."""
        status = event.get("status")
        message = str(event.get("message") or f"Waiting for launch {self.launch_id} failed.")
        if status == "success":
            self.log.info("%s", message)
            return event["launch"]
        if status == "timeout":
            raise AirflowSensorTimeout(message)
        if status == "failed":
            raise AirflowFailException(message)
        raise AirflowException(message)
