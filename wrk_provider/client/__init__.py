"""The Wrk API client: the only part of the provider that speaks HTTP. It imports no Airflow.

``WrkClient`` and ``AsyncWrkClient`` load on first use, so importing the models stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wrk_provider.client.errors import WrkError
from wrk_provider.client.models import Launch, LaunchStatus, Wrkflow
from wrk_provider.client.retry import RetryPolicy

if TYPE_CHECKING:
    from wrk_provider.client.aio import AsyncWrkClient
    from wrk_provider.client.sync import WrkClient

__all__ = [
    "AsyncWrkClient",
    "Launch",
    "LaunchStatus",
    "RetryPolicy",
    "WrkClient",
    "WrkError",
    "Wrkflow",
]


def __getattr__(name: str) -> Any:
    if name == "WrkClient":
        from wrk_provider.client.sync import WrkClient

        return WrkClient
    if name == "AsyncWrkClient":
        from wrk_provider.client.aio import AsyncWrkClient

        return AsyncWrkClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
