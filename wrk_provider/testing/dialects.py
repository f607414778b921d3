"""The two shapes of the Wrk API: the help-center page ("seed") and the published SDK."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any

from wrk_provider.testing.state import COMPLETED, STATUS_CODES, Action, Launch, Store

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class Reply:
    """What the server sends back for one request."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    drop: bool = False


class BadQuery(ValueError):
    """A query value the API cannot use; answered with 400."""


def encode(payload: object) -> bytes:
    """Serialise a JSON answer compactly."""
    return json.dumps(payload, separators=(",", ":")).encode()


def parse_id(raw: str) -> int | None:
    """Return the launch id in a path segment, or None when it is not all digits."""
    if raw.isascii() and raw.isdigit() and len(raw) < 19:
        return int(raw)
    return None


def _int_param(query: dict[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadQuery(f"{name} must be an integer, got {raw!r}") from None


def _unix_param(query: dict[str, str], name: str) -> float | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise BadQuery(f"{name} must be a unix timestamp in seconds, got {raw!r}")
    return value


class Dialect:
    """Rendering and routes shared by both shapes; subclasses fill in the differences."""

    name = ""
    has_get_launch = False

    def error(self, status: int, message: str) -> Reply:
        """An error answer in this dialect's shape."""
        raise NotImplementedError

    def list_launches(self, store: Store, query: dict[str, str]) -> Reply:
        """Answer ``GET /launch``."""
        raise NotImplementedError

    def get_launch(self, store: Store, raw_id: str) -> Reply:
        """Answer ``GET /launch/{id}``, where the dialect has it."""
        raise NotImplementedError

    def act(self, store: Store, raw_id: str, action: Action, delay: float) -> Reply:
        """Answer ``POST /launch/{id}/pause`` or ``/resume``."""
        raise NotImplementedError

    def not_found(self, raw_id: str) -> Reply:
        """The answer for a launch id the store does not hold."""
        return self.error(404, f"Launch {raw_id} not found")

    def start_launch(self, store: Store, wrkflow_uuid: str, body: bytes) -> Reply:
        """Answer ``POST /wrkflow/{uuid}/launch`` with the new launch's id."""
        try:
            payload: Any = json.loads(body) if body.strip() else {}
        except (ValueError, UnicodeDecodeError):
            return self.error(400, "The request body must be a JSON object")
        if not isinstance(payload, dict):
            return self.error(400, "The request body must be a JSON object")
        name = payload.get("name")
        if name is not None and not isinstance(name, str):
            return self.error(400, f"name must be a string, got {type(name).__name__}")
        if wrkflow_uuid not in store.wrkflows:
            return self.error(404, f"Wrkflow {wrkflow_uuid} not found")
        launch_id = store.add_launch(wrkflow_uuid=wrkflow_uuid, name=name)
        return Reply(201, encode({"id": str(launch_id)}))


class SeedDialect(Dialect):
    """The help-center page: integer ids, lower-case statuses, filters and no paging."""

    name = "seed"

    def error(self, status: int, message: str) -> Reply:
        return Reply(status, encode({"error": {"code": status, "message": message}}))

    def render(self, launch: Launch) -> dict[str, object]:
        """A launch as the help-center page shows it."""
        return launch.snapshot()

    def list_launches(self, store: Store, query: dict[str, str]) -> Reply:
        launch_id = _int_param(query, "launch_id")
        code = _int_param(query, "status_code")
        if code is not None and code not in STATUS_CODES:
            raise BadQuery(
                f"status_code must be 1 (running), 2 (paused) or 3 (completed), got {code}"
            )
        found = store.select(
            launch_id=launch_id,
            status=None if code is None else STATUS_CODES[code],
            wrkflow_uuid=query.get("wrkflow_uuid"),
            lower=_unix_param(query, "lower_start_date"),
            upper=_unix_param(query, "upper_start_date"),
        )
        launches = [self.render(launch) for launch in found]
        return Reply(200, encode({"totalCount": len(launches), "launches": launches}))

    def act(self, store: Store, raw_id: str, action: Action, delay: float) -> Reply:
        launch_id = parse_id(raw_id)
        if launch_id is None or launch_id not in store.launches:
            return self.not_found(raw_id)
        return Reply(200, encode({"status": store.apply(launch_id, action)}))


_ERROR_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    402: "PaymentRequired",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    422: "UnprocessableEntity",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


def _error_name(status: int) -> str:
    if status in _ERROR_NAMES:
        return _ERROR_NAMES[status]
    try:
        return HTTPStatus(status).phrase.title().replace(" ", "").replace("-", "")
    except ValueError:
        return "Error"


def iso_utc(unix: int) -> str:
    """Format a unix time as ISO-8601 in UTC, to the second."""
    return datetime.fromtimestamp(unix, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class OpenApiDialect(Dialect):
    """Wrk's published SDK: string ids, upper-case statuses, paging, 202 for actions."""

    name = "openapi"
    has_get_launch = True

    def error(self, status: int, message: str) -> Reply:
        body = {"error": {"name": _error_name(status), "message": message, "metadata": {}}}
        return Reply(status, encode(body))

    def render(self, launch: Launch) -> dict[str, object]:
        """A launch as the published SDK describes it."""
        elapsed, tasks, errors = launch.counters()
        return {
            "id": str(launch.id),
            "wrkflow_uuid": launch.wrkflow_uuid,
            "name": launch.name,
            "start_date": iso_utc(launch.start_date),
            "state": {
                "status": launch.status.upper(),
                "time_elapsed_sec": elapsed,
                "num_task_completed": tasks,
                "num_errors": errors,
            },
        }

    def list_launches(self, store: Store, query: dict[str, str]) -> Reply:
        page = _int_param(query, "page")
        page = 0 if page is None else page
        if page < 0:
            raise BadQuery(f"page must be 0 or more, got {page}")
        size = _int_param(query, "page_size")
        size = DEFAULT_PAGE_SIZE if size is None else size
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise BadQuery(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {size}")
        found = store.select(wrkflow_uuid=query.get("wrkflow_uuid"), name=query.get("name"))
        launches = [self.render(launch) for launch in found[page * size : (page + 1) * size]]
        payload = {"launches": launches, "total_count": len(found), "page": page, "page_size": size}
        return Reply(200, encode(payload))

    def get_launch(self, store: Store, raw_id: str) -> Reply:
        launch_id = parse_id(raw_id)
        if launch_id is None or launch_id not in store.launches:
            return self.not_found(raw_id)
        return Reply(200, encode({"launch": self.render(store.get(launch_id))}))

    def act(self, store: Store, raw_id: str, action: Action, delay: float) -> Reply:
        launch_id = parse_id(raw_id)
        if launch_id is None or launch_id not in store.launches:
            return self.not_found(raw_id)
        if store.get(launch_id).status == COMPLETED:
            return self.error(409, f"Launch {launch_id} is completed and cannot be {action}d")
        store.schedule(launch_id, action, delay)
        return Reply(202)


DIALECTS: dict[str, Dialect] = {"seed": SeedDialect(), "openapi": OpenApiDialect()}
