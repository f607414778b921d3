"""How requests to the Wrk API are built and how its answers are read.

Both clients, sync and async, go through this module, so they cannot drift apart: they only
move bytes. Nothing here does I/O.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from wrk_provider.client.config import (
    Secret,
    launch_id_text,
)
from wrk_provider.client.errors import (
    WrkAPIError,
    WrkAuthenticationError,
    WrkBadResponseError,
    WrkError,
    WrkInvalidInputError,
    WrkNotFoundError,
    WrkRateLimitedError,
    WrkRefusedError,
    WrkServerError,
    WrkUnreachableError,
)
from wrk_provider.client.models import Launch, LaunchPage, LaunchStatus, to_datetime
from wrk_provider.client.retry import parse_retry_after

_FILTER_NAMES = ("launch_id", "status_code", "wrkflow_uuid", "lower_start_date", "upper_start_date")


@dataclass(frozen=True)
class ApiRequest:
    """One request to send: ``path`` is relative to the base URL."""

    method: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    launch_id: str | None = None
    json_body: Mapping[str, Any] | None = None

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.path}"

    def describe(self) -> str:
        what = self.endpoint
        return what + (f" for launch {self.launch_id}" if self.launch_id is not None else "")


@dataclass(frozen=True)
class ApiResponse:
    """What came back, as bytes: the clients fill it in, this module reads it."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    reason: str = ""

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


def launch_request(launch_id: object) -> ApiRequest:
    text = launch_id_text(launch_id)
    return ApiRequest("GET", f"/launch/{quote(text, safe='')}", launch_id=text)


def action_request(launch_id: object, action: str) -> ApiRequest:
    text = launch_id_text(launch_id)
    return ApiRequest("POST", f"/launch/{quote(text, safe='')}/{action}", launch_id=text)


@dataclass(frozen=True)
class LaunchFilters:
    """The list filters, checked and normalised; ``matches`` applies them on this side."""

    launch_id: str | None = None
    status: LaunchStatus | None = None
    wrkflow_uuid: str | None = None
    lower_start_date: Any = None
    upper_start_date: Any = None
    _lower: float = field(default=-math.inf, repr=False, compare=False)
    _upper: float = field(default=math.inf, repr=False, compare=False)

    @classmethod
    def create(cls, *, allow_naive: bool = True, **filters: Any) -> LaunchFilters:
        unknown = sorted(set(filters) - set(_FILTER_NAMES))
        if unknown:
            raise WrkInvalidInputError(
                f"Unknown launch filter {', '.join(unknown)}: use {', '.join(_FILTER_NAMES)}."
            )
        launch_id = filters.get("launch_id")
        status = filters.get("status_code")
        uuid = filters.get("wrkflow_uuid")
        if uuid is not None and (not isinstance(uuid, str) or not uuid.strip()):
            raise WrkInvalidInputError(
                f"wrkflow_uuid={uuid!r} is not a wrkflow uuid: give it as a string."
            )
        lower = _optional_date(filters.get("lower_start_date"), "lower_start_date", allow_naive)
        upper = _optional_date(filters.get("upper_start_date"), "upper_start_date", allow_naive)
        if lower is not None and upper is not None and lower > upper:
            raise WrkInvalidInputError(
                f"lower_start_date ({lower.isoformat()}) is after upper_start_date "
                f"({upper.isoformat()}): swap them."
            )
        return cls(
            launch_id=None if launch_id is None else launch_id_text(launch_id),
            status=None if status is None else LaunchStatus.parse(status),
            wrkflow_uuid=None if uuid is None else uuid.strip(),
            lower_start_date=lower,
            upper_start_date=upper,
            _lower=-math.inf if lower is None else lower.timestamp(),
            _upper=math.inf if upper is None else upper.timestamp(),
        )

    def params(self) -> dict[str, str]:
        params: dict[str, str] = {}
        if self.launch_id is not None:
            params["launch_id"] = self.launch_id
        if self.status is not None:
            params["status_code"] = str(self.status.code)
        if self.wrkflow_uuid is not None:
            params["wrkflow_uuid"] = self.wrkflow_uuid
        if self.lower_start_date is not None:
            params["lower_start_date"] = str(math.floor(self.lower_start_date.timestamp()))
        if self.upper_start_date is not None:
            params["upper_start_date"] = str(math.ceil(self.upper_start_date.timestamp()))
        return params

    def matches(self, launch: Launch) -> bool:
        if self.launch_id is not None and str(launch.launch_id) != self.launch_id:
            return False
        if self.status is not None and launch.status is not self.status:
            return False
        if self.wrkflow_uuid is not None and launch.wrkflow_uuid != self.wrkflow_uuid:
            return False
        return self._lower <= launch.start_timestamp <= self._upper


def _optional_date(value: Any, name: str, allow_naive: bool) -> Any:
    return None if value is None else to_datetime(value, name, allow_naive=allow_naive)


# Reading answers.


def raise_for_status(request: ApiRequest, response: ApiResponse, secret: Secret) -> None:
    """Raise the error kind that fits an answer that is not a 2xx."""
    status = response.status
    if 200 <= status < 300:
        return
    server = server_message(response, secret)
    heard = f" ({server})" if server else ""
    head = f"{request.describe()} failed with HTTP {status}{heard}"
    kwargs: dict[str, Any] = {
        "endpoint": request.endpoint,
        "launch_id": request.launch_id,
        "status_code": status,
        "server_message": server,
    }
    if 300 <= status < 400:
        location = response.header("Location") or "an address it did not give"
        raise WrkAPIError(
            f"{head}: the API redirected to {secret.scrub(location)}, which is not followed so "
            "that the key stays with the configured host; set the base URL to that address.",
            **kwargs,
        )
    if status in (401, 403):
        advice = (
            "check the connection's API key; a regenerated key invalidates the old one."
            if status == 401
            else "the key's account may not have access to this; check its permissions."
        )
        raise WrkAuthenticationError(f"{head}: {advice}", **kwargs)
    if status == 404:
        advice = "check the launch id." if request.launch_id is not None else "check the base URL."
        raise WrkNotFoundError(f"{head}: {advice}", **kwargs)
    if status == 429:
        error: WrkError = WrkRateLimitedError(
            f"{head}: the API is rate limiting; lower the request rate or try again later.",
            **kwargs,
        )
    elif status >= 500:
        error = WrkServerError(f"{head}: the Wrk API is failing; try again later.", **kwargs)
    else:
        advice = {
            409: "the launch's current state does not allow this; read the launch to see it.",
            422: "the API refused the request's values; check the arguments it names.",
        }.get(status, "the API refused the request; check the values sent.")
        raise WrkAPIError(f"{head}: {advice}", **kwargs)
    error.retry_after = parse_retry_after(response.header("Retry-After"))  # type: ignore[attr-defined]
    raise error


def unreachable(request: ApiRequest, base_url: str, reason: str) -> WrkUnreachableError:
    """The error for a request that got no answer: refused, dropped or timed out."""
    return WrkUnreachableError(
        f"{request.describe()} could not reach {base_url} ({reason}): check the base URL and "
        "the network.",
        endpoint=request.endpoint,
        launch_id=request.launch_id,
    )


def server_message(response: ApiResponse, secret: Secret) -> str:
    """The server's own words about an error, on one short line."""
    text = ""
    try:
        payload = json.loads(response.body) if response.body else None
    except ValueError:
        payload = None
    if isinstance(payload, Mapping):
        error = payload.get("error", payload)
        if isinstance(error, Mapping):
            message = error.get("message") or error.get("name") or error.get("code")
            text = "" if message is None else str(message)
        elif isinstance(error, str):
            text = error
    elif response.body:
        raw = response.body[:2000].decode("utf-8", "replace")
        text = "an HTML page" if "<html" in raw.lower() else raw
    text = " ".join(secret.scrub(text).split())
    return text if len(text) <= 200 else text[:197] + "..."


def read_json(request: ApiRequest, response: ApiResponse) -> Any:
    if not response.body.strip():
        raise WrkBadResponseError(
            f"{request.describe()} answered HTTP {response.status} with an empty body, "
            "expected JSON; check that the base URL points at the Wrk API.",
            endpoint=request.endpoint,
            launch_id=request.launch_id,
            status_code=response.status,
        )
    try:
        return json.loads(response.body)
    except (ValueError, RecursionError) as exc:
        kind = response.header("Content-Type") or "no content type"
        raise WrkBadResponseError(
            f"{request.describe()} answered HTTP {response.status} with a body that is not "
            f"JSON ({kind}); check that the base URL points at the Wrk API.",
            endpoint=request.endpoint,
            launch_id=request.launch_id,
            status_code=response.status,
        ) from exc


def read_page(request: ApiRequest, response: ApiResponse) -> LaunchPage:
    """A list answer in either shape: ``totalCount`` or paged ``total_count``."""
    payload = read_json(request, response)
    where = request.describe()
    if not isinstance(payload, Mapping) or not isinstance(payload.get("launches"), list):
        raise WrkBadResponseError(
            f"{where} answered without a 'launches' list; check that the base URL points at "
            "the Wrk API.",
            endpoint=request.endpoint,
            status_code=response.status,
        )
    launches = [_parse_launch(request, item) for item in payload["launches"]]
    total = payload.get("total_count", payload.get("totalCount"))
    page = payload.get("page")
    page_size = payload.get("page_size")
    for name, value in (("total_count", total), ("page", page), ("page_size", page_size)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise WrkBadResponseError(
                f"{where} answered with '{name}'={value!r}, expected a whole number.",
                endpoint=request.endpoint,
                status_code=response.status,
            )
    if page_size is not None and page_size < 1:
        page_size = None
    return LaunchPage(launches, total, page, page_size)


def read_launch(request: ApiRequest, response: ApiResponse) -> Launch:
    """A single-launch answer: ``{"launch": {...}}``, or the launch object itself."""
    payload = read_json(request, response)
    if isinstance(payload, Mapping) and isinstance(payload.get("launch"), Mapping):
        payload = payload["launch"]
    return _parse_launch(request, payload)


def read_action(request: ApiRequest, response: ApiResponse, action: str) -> bool:
    """True when the API took the pause or resume: 200 ``{"status": true}``, or 202/204.

    A 202 or 204 means accepted whatever its body says, unless the body is ``{"status":
    false}``; a 200 must say ``{"status": true}``, as anything else would be a guess.
    """
    accepted = response.status in (202, 204)
    if accepted and not response.body.strip():
        return True
    try:
        payload = read_json(request, response)
    except WrkBadResponseError:
        if accepted:
            return True
        raise
    status = payload.get("status") if isinstance(payload, Mapping) else None
    if status is False:
        raise WrkRefusedError(
            f"{request.describe()}: the API refused to {action} launch {request.launch_id}; "
            "a completed launch cannot be paused or resumed, read it to see its state.",
            endpoint=request.endpoint,
            launch_id=request.launch_id,
            status_code=response.status,
        )
    if status is True or accepted:
        return True
    raise WrkBadResponseError(
        f"{request.describe()} answered HTTP {response.status} with 'status'={status!r}, "
        "expected true or false; read the launch to see whether the "
        f"{action} took effect.",
        endpoint=request.endpoint,
        launch_id=request.launch_id,
        status_code=response.status,
    )


def _parse_launch(request: ApiRequest, item: object) -> Launch:
    try:
        return Launch.from_api(item)
    except WrkBadResponseError as exc:
        raise WrkBadResponseError(
            f"{request.describe()}: {exc.message.rstrip('.')}; check that the base URL points "
            "at the Wrk API, and upgrade the provider if it does.",
            endpoint=request.endpoint,
            launch_id=request.launch_id,
        ) from None
