"""The Wrk API client: the only part of the provider that speaks HTTP. It imports no Airflow.

Each name loads on first use, so that importing one part (the errors, say) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wrk_provider.client.aio import AsyncWrkClient
    from wrk_provider.client.errors import WrkError
    from wrk_provider.client.models import Launch, LaunchStatus, Wrkflow
    from wrk_provider.client.retry import RetryPolicy
    from wrk_provider.client.sync import WrkClient

_HOMES = {
    "AsyncWrkClient": "aio",
    "Launch": "models",
    "LaunchStatus": "models",
    "RetryPolicy": "retry",
    "WrkClient": "sync",
    "WrkError": "errors",
    "Wrkflow": "models",
}

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
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
