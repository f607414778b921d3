"""Operators that pause, resume and list Wrk launches."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, BaseOperator

from wrk_provider._arguments import check_literal_launch_id
from wrk_provider.client.config import launch_id_text, positive_number
from wrk_provider.client.errors import WrkError, WrkNotFoundError, WrkRefusedError
from wrk_provider.client.models import LaunchStatus
from wrk_provider.hooks.wrk import WrkHook
from wrk_provider.links.wrk import LAUNCH_URL_XCOM_KEY, WrkLaunchLink, launch_url

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from wrk_provider.client.models import Launch


class _WrkLaunchActionOperator(BaseOperator):
    """Asks Wrk to move one launch to ``target`` and, unless told not to, waits to see it there.

    Wrk may answer 202 (accepted, not yet done), so the launch is read back until its state
    shows the action took effect, at most ``confirm_timeout`` seconds.
    """

    action: str
    target: LaunchStatus
    template_fields: Sequence[str] = ("launch_id", "wrk_conn_id")
    operator_extra_links = (WrkLaunchLink(),)
    ui_color = "#e8f1fb"

    def __init__(
        self,
        *,
        launch_id: int | str,
        wrk_conn_id: str = WrkHook.default_conn_name,
        confirm: bool = True,
        confirm_timeout: float = 60.0,
        confirm_interval: float = 2.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_literal_launch_id(launch_id)
        self.launch_id = launch_id
        self.wrk_conn_id = wrk_conn_id
        self.confirm = confirm
        self.confirm_timeout = positive_number(confirm_timeout, "confirm_timeout", 60.0)
        self.confirm_interval = positive_number(confirm_interval, "confirm_interval", 2.0)

    def execute(self, context: Context) -> dict[str, Any]:
        launch_id = launch_id_text(self.launch_id)
        hook = WrkHook(self.wrk_conn_id)
        _push_link(context, hook, launch_id)
        try:
            launch = hook.get_launch(launch_id)
        except WrkNotFoundError as error:
            raise AirflowFailException(str(error)) from None

        if launch.status is self.target:
            self.log.info(
                "Launch %s is already %s; nothing to %s, no request sent.",
                launch_id,
                self.target,
                self.action,
            )
            return launch.to_dict()
        if launch.is_completed:
            raise AirflowFailException(
                f"Launch {launch_id} is completed: a completed launch cannot be {self.action}d."
            )

        self.log.info("Asking Wrk to %s launch %s (now %s).", self.action, launch_id, launch.status)
        try:
            getattr(hook, f"{self.action}_launch")(launch_id)
        except WrkError as error:
            # Refused ({"status": false}) or 409: perhaps the launch completed meanwhile.
            if isinstance(error, WrkRefusedError) or error.status_code == 409:
                self._fail_if_completed_meanwhile(hook, launch_id, error)
            raise
        if not self.confirm:
            launch = hook.get_launch(launch_id)
            self.log.info(
                "Wrk accepted the %s of launch %s; not waiting to see it take effect. %s.",
                self.action,
                launch_id,
                launch.summary(),
            )
            return launch.to_dict()

        launch = self._wait_for_target(hook, launch_id)
        self.log.info("%s.", launch.summary())
        return launch.to_dict()

    def _fail_if_completed_meanwhile(self, hook: WrkHook, launch_id: str, error: Exception) -> None:
        """A launch that completed between the first read and the request is refused by Wrk;
        say so plainly, and fail without retries, as no retry can change it."""
        if hook.get_launch(launch_id).is_completed:
            raise AirflowFailException(
                f"Launch {launch_id} completed before the {self.action} request reached Wrk: a "
                f"completed launch cannot be {self.action}d ({error})."
            ) from None

    def _wait_for_target(self, hook: WrkHook, launch_id: str) -> Launch:
        deadline = time.monotonic() + self.confirm_timeout
        while True:
            launch = hook.get_launch(launch_id)
            if launch.status is self.target or self._finished_instead(launch):
                return launch
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AirflowException(
                    f"Launch {launch_id} still shows {launch.status} {self.confirm_timeout:g} s "
                    f"after Wrk accepted the {self.action}; check it in Wrk, raise "
                    "confirm_timeout, or set confirm=False."
                )
            time.sleep(min(self.confirm_interval, remaining))

    def _finished_instead(self, launch: Launch) -> bool:
        return launch.is_completed


class WrkPauseLaunchOperator(_WrkLaunchActionOperator):
    """Pause a running Wrk launch. Pausing a paused launch succeeds without a request.

    :param launch_id: the launch to pause (templated); an int or a string.
    :param wrk_conn_id: the Wrk connection (templated).
    :param confirm: read the launch back until it shows paused.
    :param confirm_timeout: seconds to wait for that, after which the task fails.
    :param confirm_interval: seconds between read-backs.

    Returns the launch as read after the pause (with ``confirm=False``, read once right after
    the request, so it may not show the pause yet), as a dict in the API reference's shape.
    """

    action = "pause"
    target = LaunchStatus.PAUSED

    def _finished_instead(self, launch: Launch) -> bool:
        if launch.is_completed:
            raise AirflowFailException(
                f"Launch {launch.launch_id} completed before the pause took effect."
            )
        return False


class WrkResumeLaunchOperator(_WrkLaunchActionOperator):
    """Resume a paused Wrk launch. Resuming a running launch succeeds without a request.

    :param launch_id: the launch to resume (templated); an int or a string.
    :param wrk_conn_id: the Wrk connection (templated).
    :param confirm: read the launch back until it shows running (or completed).
    :param confirm_timeout: seconds to wait for that, after which the task fails.
    :param confirm_interval: seconds between read-backs.

    Returns the launch as read after the resume (with ``confirm=False``, read once right after
    the request, so it may not show the resume yet), as a dict in the API reference's shape.
    """

    action = "resume"
    target = LaunchStatus.RUNNING


class WrkListLaunchesOperator(BaseOperator):
    """List Wrk launches, newest first, for dynamic task mapping.

    Every filter is templated, so ``lower_start_date="{{ data_interval_start }}"`` works.

    :param wrkflow_uuid: only launches of this wrkflow.
    :param status_code: only launches in this status: 1 or ``"running"``, 2 or ``"paused"``,
        3 or ``"completed"``.
    :param lower_start_date: only launches started at or after this instant (a datetime, a unix
        time or an ISO-8601 string; naive values are read as UTC).
    :param upper_start_date: only launches started at or before this instant.
    :param launch_id: only this launch.
    :param return_dicts: return each launch as a dict instead of its id.
    :param wrk_conn_id: the Wrk connection (templated).

    Returns the list of launch ids, e.g. for ``WrkPauseLaunchOperator.partial(...).expand(
    launch_id=list_task.output)``.
    """

    template_fields: Sequence[str] = (
        "wrkflow_uuid",
        "status_code",
        "lower_start_date",
        "upper_start_date",
        "launch_id",
        "wrk_conn_id",
    )
    operator_extra_links = (WrkLaunchLink(),)
    ui_color = "#e8f1fb"

    def __init__(
        self,
        *,
        wrkflow_uuid: str | None = None,
        status_code: int | str | LaunchStatus | None = None,
        lower_start_date: Any = None,
        upper_start_date: Any = None,
        launch_id: int | str | None = None,
        return_dicts: bool = False,
        wrk_conn_id: str = WrkHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if launch_id is not None:
            check_literal_launch_id(launch_id)
        self.wrkflow_uuid = wrkflow_uuid
        self.status_code = status_code
        self.lower_start_date = lower_start_date
        self.upper_start_date = upper_start_date
        self.launch_id = launch_id
        self.return_dicts = return_dicts
        self.wrk_conn_id = wrk_conn_id

    def execute(self, context: Context) -> list[Any]:
        filters = {
            "wrkflow_uuid": self.wrkflow_uuid,
            "status_code": self.status_code,
            "lower_start_date": self.lower_start_date,
            "upper_start_date": self.upper_start_date,
            "launch_id": self.launch_id,
        }
        filters = {name: value for name, value in filters.items() if value not in (None, "")}
        hook = WrkHook(self.wrk_conn_id)
        launches = hook.get_launches(**filters)
        shown = ", ".join(f"{name}={value}" for name, value in filters.items()) or "no filter"
        self.log.info("Found %d launches (%s).", len(launches), shown)
        if len(launches) == 1:
            _push_link(context, hook, launches[0].launch_id)
        else:
            context["ti"].xcom_push(key=LAUNCH_URL_XCOM_KEY, value="")
        if self.return_dicts:
            return [launch.to_dict() for launch in launches]
        return [launch.launch_id for launch in launches]


def _push_link(context: Context, hook: WrkHook, launch_id: int | str) -> None:
    context["ti"].xcom_push(key=LAUNCH_URL_XCOM_KEY, value=launch_url(hook.get_ui_url(), launch_id))
