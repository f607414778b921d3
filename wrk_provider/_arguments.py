"""Checks of task arguments made when a DAG file is parsed, so that a mistake shows there."""

from __future__ import annotations

from wrk_provider.client.config import launch_id_text

_TEMPLATE_MARKS = ("{{", "{%")


def check_literal_launch_id(launch_id: object) -> None:
    """Refuse a launch id that can never become a valid one, as the DAG file is parsed.

    Only plain values are judged here: a Jinja template, an ``XComArg``, or any other value
    Airflow resolves later is checked when the task runs, once it has its final value.
    """
    if isinstance(launch_id, str) and any(mark in launch_id for mark in _TEMPLATE_MARKS):
        return
    if launch_id is None or isinstance(launch_id, (str, int, float)):
        launch_id_text(launch_id)
