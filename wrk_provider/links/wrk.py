"""A link from a task to its launch's page in the Wrk app."""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import BaseOperatorLink

LAUNCH_URL_XCOM_KEY = "wrk_launch_url"


class WrkLaunchLink(BaseOperatorLink):
    """The launch's page in the Wrk app, as the task recorded it when it ran."""

    name = "Wrk launch"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        from airflow.providers.common.compat.sdk import XCom

        url = XCom.get_value(key=LAUNCH_URL_XCOM_KEY, ti_key=ti_key)
        return str(url) if url else ""


def launch_url(ui_url: str, launch_id: int | str) -> str:
    """The page of a launch: ``ui_url`` with ``{launch_id}`` filled in, or ``/launches/<id>``
    appended when it has no placeholder."""
    if "{launch_id}" in ui_url:
        return ui_url.replace("{launch_id}", str(launch_id))
    return f"{ui_url.rstrip('/')}/launches/{launch_id}"
