"""Launches and wrkflows as plain values, parsed from either documented shape of the API."""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

import pendulum

from wrk_provider.client.config import is_whole_number_text
from wrk_provider.client.errors import WrkBadResponseError, WrkInvalidInputError, WrkNotFoundError

if TYPE_CHECKING:
    from wrk_provider.client.protocol import LaunchFilters


class LaunchStatus(str, enum.Enum):
    """Where a launch is in its life. ``code`` is the integer the list filter takes."""

    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"

    @property
    def code(self) -> int:
        return _CODES[self]

    @classmethod
    def parse(cls, value: object, *, field_name: str = "status_code") -> LaunchStatus:
        """Read a status given as the enum, a code (1, 2, 3) or a name in any letter case."""
        if isinstance(value, LaunchStatus):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            for status, code in _CODES.items():
                if code == value:
                    return status
        elif isinstance(value, str):
            text = value.strip().lower()
            if is_whole_number_text(text):
                return cls.parse(int(text), field_name=field_name)
            for status in cls:
                if status.value == text:
                    return status
        raise WrkInvalidInputError(
            f"{field_name}={value!r} is not a launch status: "
            "use 1 or 'running', 2 or 'paused', 3 or 'completed'."
        )

    def __str__(self) -> str:
        return self.value


_CODES = {LaunchStatus.RUNNING: 1, LaunchStatus.PAUSED: 2, LaunchStatus.COMPLETED: 3}
_BY_WORD = {status.value: status for status in LaunchStatus}


class _Where:
    """Names a launch in an error message; the text is made only if an error needs it."""

    __slots__ = ("launch_id",)

    def __init__(self, launch_id: object) -> None:
        self.launch_id = launch_id

    def __str__(self) -> str:
        return f"launch {self.launch_id}"


class LaunchActions(Protocol):
    """What a bound launch needs from a client to pause and resume itself."""

    def pause_launch(self, launch_id: int | str) -> bool: ...

    def resume_launch(self, launch_id: int | str) -> bool: ...


@dataclass(frozen=True)
class Launch:
    """One started run of a wrkflow, as the API last described it.

    ``status`` is a :class:`LaunchStatus` when the API sent a status this provider knows, and
    the API's own word, lower-cased, when it sent one it does not: it is kept, not guessed at.
    """

    launch_id: int | str
    wrkflow_uuid: str | None
    name: str | None
    start_timestamp: float
    status: LaunchStatus | str
    time_elapsed: int = 0
    num_task_completed: int = 0
    num_errors: int = 0
    _client: LaunchActions | None = field(default=None, repr=False, compare=False)

    @property
    def start_date(self) -> pendulum.DateTime:
        """When the launch started, in UTC."""
        return pendulum.from_timestamp(self.start_timestamp, tz="UTC")

    @property
    def is_known_status(self) -> bool:
        return isinstance(self.status, LaunchStatus)

    @property
    def is_completed(self) -> bool:
        return self.status is LaunchStatus.COMPLETED

    @property
    def is_paused(self) -> bool:
        return self.status is LaunchStatus.PAUSED

    @property
    def is_running(self) -> bool:
        return self.status is LaunchStatus.RUNNING

    def to_dict(self) -> dict[str, Any]:
        """The launch in the seed reference's shape, ready for XCom and ``json.dumps``."""
        return {
            "launch_id": self.launch_id,
            "wrkflow_uuid": self.wrkflow_uuid,
            "name": self.name,
            "start_date": math.floor(self.start_timestamp),
            "state": {
                "status": str(self.status),
                "time_elapsed": self.time_elapsed,
                "num_task_completed": self.num_task_completed,
                "num_errors": self.num_errors,
            },
        }

    def summary(self) -> str:
        """One line for a task log: ``Launch 12 running: 34 tasks completed, 0 errors, ...``."""
        return (
            f"Launch {self.launch_id} {self.status}: {self.num_task_completed} tasks completed, "
            f"{self.num_errors} errors, {self.time_elapsed} s elapsed"
        )

    def bind(self, client: LaunchActions) -> Launch:
        """The same launch, able to ``pause()`` and ``resume()`` itself through ``client``."""
        return replace(self, _client=client)

    def _bind_fresh(self, client: LaunchActions) -> Launch:
        """Bind a launch this process has just parsed and nobody else holds, without a copy."""
        object.__setattr__(self, "_client", client)
        return self

    def pause(self) -> bool:
        return self._actions().pause_launch(self.launch_id)

    def resume(self) -> bool:
        return self._actions().resume_launch(self.launch_id)

    def _actions(self) -> LaunchActions:
        if self._client is None:
            raise WrkInvalidInputError(
                f"Launch {self.launch_id} is not bound to a client: "
                "get it from a client, hook or wrkflow, or call client.pause_launch(launch_id)."
            )
        return self._client

    @classmethod
    def from_api(cls, data: object) -> Launch:
        """Parse a launch in either documented shape; raise ``WrkBadResponseError`` naming the
        field that is missing or of the wrong type."""
        obj = _mapping(data, "launch")
        launch_id = obj.get("launch_id", obj.get("id"))
        if isinstance(launch_id, bool) or not isinstance(launch_id, (int, str)) or launch_id == "":
            raise WrkBadResponseError(
                f"The API sent a launch without a usable 'launch_id' or 'id' (got {launch_id!r})."
            )
        where = _Where(launch_id)
        state = _mapping(obj.get("state"), where, "'state'")
        raw_status = state.get("status")
        if not isinstance(raw_status, str) or not raw_status.strip():
            raise WrkBadResponseError(
                f"The API sent {where} with no usable 'state.status' (got {raw_status!r})."
            )
        status_word = raw_status.strip().lower()
        status: LaunchStatus | str = _BY_WORD.get(status_word, status_word)
        elapsed_key = "time_elapsed" if "time_elapsed" in state else "time_elapsed_sec"
        # Every field is checked above. Filling the new instance's dict directly skips the
        # frozen dataclass's one guarded ``__setattr__`` per field, which would otherwise be
        # half the cost of reading a long listing; the instance is the same as ``cls(...)``.
        launch = object.__new__(cls)
        launch.__dict__.update(
            launch_id=launch_id,
            wrkflow_uuid=_optional_str(obj, "wrkflow_uuid", where),
            name=_optional_str(obj, "name", where),
            start_timestamp=_start_timestamp(obj.get("start_date"), where),
            status=status,
            time_elapsed=_count(state, elapsed_key, where),
            num_task_completed=_count(state, "num_task_completed", where),
            num_errors=_count(state, "num_errors", where),
            _client=None,
        )
        return launch


@dataclass(frozen=True)
class Wrkflow:
    """A wrkflow and the launches it has started, read through a client.

    ``wrkflow.get_launches(launch_id=1234)`` answers the one launch, as the reference shows;
    any other call answers a list.
    """

    uuid: str
    _client: WrkflowClient = field(repr=False, compare=False)

    @property
    def launches(self) -> list[Launch]:
        return self._client.get_launches(wrkflow_uuid=self.uuid)

    def get_launches(self, **filters: Any) -> Any:
        other = filters.pop("wrkflow_uuid", None)
        if other is not None and other != self.uuid:
            raise WrkInvalidInputError(
                f"wrkflow_uuid={other!r} is another wrkflow than this one ({self.uuid}): list "
                "its launches through client.get_wrkflow(uuid) instead."
            )
        if filters.get("launch_id") is not None:
            found = self._client.get_launches(wrkflow_uuid=self.uuid, **filters)
            if not found:
                raise WrkNotFoundError(
                    f"Launch {filters['launch_id']} was not found in wrkflow {self.uuid}: "
                    "check the launch id and the wrkflow uuid.",
                    launch_id=str(filters["launch_id"]),
                )
            return found[0]
        return self._client.get_launches(wrkflow_uuid=self.uuid, **filters)


class WrkflowClient(Protocol):
    def get_launches(self, **filters: Any) -> list[Launch]: ...


@dataclass(frozen=True)
class LaunchPage:
    """One page of a list answer, with the paging fields when the answer carried them."""

    launches: list[Launch]
    total_count: int | None
    page: int | None = None
    page_size: int | None = None

    @property
    def is_paged(self) -> bool:
        return self.page is not None and self.page_size is not None

    def __iter__(self) -> Iterator[Launch]:
        return iter(self.launches)

    def matching(self, filters: LaunchFilters) -> list[Launch]:
        return [launch for launch in self.launches if filters.matches(launch)]


def to_datetime(value: object, field_name: str, *, allow_naive: bool = True) -> pendulum.DateTime:
    """Read an instant given as a datetime, a unix number or an ISO-8601 string, in UTC.

    A naive datetime or ISO string without an offset is read as UTC, unless ``allow_naive``
    is false, in which case it is refused.
    """
    if isinstance(value, bool):
        raise WrkInvalidInputError(f"{field_name}={value!r} is not a date: {_DATE_HINT}")
    if isinstance(value, (int, float)):
        try:
            return pendulum.from_timestamp(float(value), tz="UTC")
        except (OverflowError, OSError, ValueError) as exc:
            raise WrkInvalidInputError(
                f"{field_name}={value!r} is out of range: {_DATE_HINT}"
            ) from exc
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            pass
        else:
            return to_datetime(number, field_name)
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise WrkInvalidInputError(
                f"{field_name}={value!r} is not a date: {_DATE_HINT}"
            ) from exc
        if parsed.tzinfo is None and not allow_naive:
            raise WrkInvalidInputError(
                f"{field_name}={value!r} has no time zone: give an ISO-8601 string with an "
                "offset, such as 2024-01-01T00:00:00Z."
            )
        return to_datetime(parsed, field_name)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            if not allow_naive:
                raise WrkInvalidInputError(
                    f"{field_name}={value!r} has no time zone: give an aware datetime or an "
                    "ISO-8601 string with an offset."
                )
            value = value.replace(tzinfo=dt.timezone.utc)
        return pendulum.instance(value).in_timezone("UTC")
    if isinstance(value, dt.date):
        return pendulum.datetime(value.year, value.month, value.day, tz="UTC")
    raise WrkInvalidInputError(f"{field_name}={value!r} is not a date: {_DATE_HINT}")


_DATE_HINT = "give a datetime, a unix timestamp or an ISO-8601 string."


def _mapping(value: object, where: object, what: str = "") -> Mapping[str, Any]:
    if type(value) is dict or isinstance(value, Mapping):
        return value
    named = f"{where}: {what}" if what else str(where)
    raise WrkBadResponseError(
        f"The API sent {named} as {type(value).__name__}, expected a JSON object."
    )


def _optional_str(obj: Mapping[str, Any], key: str, where: object) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise WrkBadResponseError(
        f"The API sent {where} with '{key}' as {type(value).__name__}, expected a string."
    )


def _count(state: Mapping[str, Any], key: str, where: object) -> int:
    value = state.get(key, 0)
    if type(value) is int and value >= 0:
        return value
    if value is None:
        return 0
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise WrkBadResponseError(
            f"The API sent {where} with 'state.{key}'={value!r}, expected a non-negative number."
        )
    return int(value)


def _start_timestamp(value: object, where: object) -> float:
    if value is None or isinstance(value, bool):
        raise WrkBadResponseError(f"The API sent {where} without a usable 'start_date'.")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.timezone.utc)
            return parsed.timestamp()
        with contextlib.suppress(ValueError):
            return _start_timestamp(float(value), where)
    raise WrkBadResponseError(
        f"The API sent {where} with 'start_date'={value!r}, expected a unix time or ISO-8601."
    )
