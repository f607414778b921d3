"""``AsyncWrkClient``: the Wrk API over one ``httpx.AsyncClient``, for triggers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx
import tenacity

from wrk_provider.client import paging, protocol
from wrk_provider.client.budget import RequestBudget
from wrk_provider.client.config import ClientConfig, ClientOptions
from wrk_provider.client.errors import WrkError
from wrk_provider.client.models import Launch, LaunchPage
from wrk_provider.client.protocol import ApiRequest, ApiResponse
from wrk_provider.client.retry import gave_up, retry_options

if TYPE_CHECKING:
    from typing_extensions import Unpack


class AsyncWrkClient:
    """The async twin of :class:`~wrk_provider.client.sync.WrkClient`: same arguments, same
    rules, awaitable calls. Close it with ``await client.aclose()`` or ``async with``.

    :param max_requests_per_second: a budget every request of this client draws from,
        retries included; None for no limit.
    """

    def __init__(
        self,
        api_key: str,
        *,
        max_requests_per_second: float | None = None,
        http: httpx.AsyncClient | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        self.config = ClientConfig.create(api_key, **options)
        self._http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(self.config.timeout, connect=self.config.connect_timeout),
            follow_redirects=False,
            trust_env=True,
        )
        self._paged_api: bool | None = None
        self.budget = (
            RequestBudget(max_requests_per_second) if max_requests_per_second is not None else None
        )
        self.requests_sent = 0
        _quiet_request_log()

    def __repr__(self) -> str:
        return f"AsyncWrkClient(base_url={self.config.base_url!r})"

    async def __aenter__(self) -> AsyncWrkClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    async def get_launches(self, **filters: Any) -> list[Launch]:
        """Launches matching the filters, newest first, from every page."""
        launches = [launch async for launch in self.iter_launches(**filters)]
        launches.sort(key=lambda launch: launch.start_timestamp, reverse=True)
        return launches

    async def iter_launches(self, **filters: Any) -> AsyncIterator[Launch]:
        """Launches matching the filters, in the server's order, one page held at a time."""
        async for page in self.iter_pages(**filters):
            for launch in page.launches:
                yield launch

    async def iter_pages(self, **filters: Any) -> AsyncIterator[LaunchPage]:
        """The listing page by page, each holding only the launches that match the filters,
        with the answer's ``total_count`` and paging fields."""
        pager = paging.Pager(
            protocol.LaunchFilters.create(allow_naive=self.config.allow_naive_datetimes, **filters),
            self.config.page_size,
        )
        request: ApiRequest | None = pager.first_request()
        while request is not None:
            launches, request = pager.read(request, await self._send(request))
            page = pager.last_page
            assert page is not None
            self._paged_api = page.is_paged
            yield LaunchPage(launches, page.total_count, page.page, page.page_size)

    async def get_launch(self, launch_id: int | str) -> Launch:
        """The launch with this id; ``WrkNotFoundError`` when there is none."""
        lookup = paging.LaunchLookup(launch_id, self._paged_api)
        request: ApiRequest | None = lookup.first_request()
        while request is not None:
            request = lookup.read(request, await self._send(request))
        self._paged_api = lookup.paged_api
        assert lookup.launch is not None
        return lookup.launch

    async def pause_launch(self, launch_id: int | str) -> bool:
        request = protocol.action_request(launch_id, "pause")
        return protocol.read_action(request, await self._send(request), "pause")

    async def resume_launch(self, launch_id: int | str) -> bool:
        request = protocol.action_request(launch_id, "resume")
        return protocol.read_action(request, await self._send(request), "resume")

    async def check(self) -> LaunchPage:
        request = paging.Pager(protocol.LaunchFilters()).first_request()
        return protocol.read_page(request, await self._send(request))

    async def _send(self, request: ApiRequest) -> ApiResponse:
        policy = self.config.retry
        retrying = tenacity.AsyncRetrying(**retry_options(policy))
        try:
            return await retrying(self._send_once, request)
        except WrkError as error:
            raise gave_up(error, retrying.statistics.get("attempt_number", 1)) from None

    async def _send_once(self, request: ApiRequest) -> ApiResponse:
        if self.budget is not None:
            await self.budget.acquire()
        self.requests_sent += 1
        try:
            answer = await self._http.request(
                request.method,
                self.config.url(request.path),
                params=dict(request.params) or None,
                json=request.json_body,
                headers=self.config.headers(),
            )
        except httpx.HTTPError as exc:
            raise protocol.unreachable(
                request, self.config.base_url, _describe_failure(exc)
            ) from None
        response = ApiResponse(
            answer.status_code, answer.headers, answer.content, answer.reason_phrase
        )
        protocol.raise_for_status(request, response, self.config.api_key)
        return response


def _describe_failure(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, httpx.TimeoutException):
        return "no answer within the read timeout"
    if isinstance(exc, (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError)):
        return "connection failed or was dropped"
    return type(exc).__name__


def _quiet_request_log() -> None:
    """httpx logs every request at INFO; a wait should log changes, not polls."""
    logger = logging.getLogger("httpx")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)
