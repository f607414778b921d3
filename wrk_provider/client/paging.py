"""Paging and single-launch look-ups: small state machines that both clients drive.

They say which request to send next and read each answer through :mod:`protocol`; the
clients only move the bytes.
"""

from __future__ import annotations

from wrk_provider.client.config import launch_id_text
from wrk_provider.client.errors import WrkBadResponseError, WrkNotFoundError
from wrk_provider.client.models import Launch, LaunchPage
from wrk_provider.client.protocol import (
    ApiRequest,
    ApiResponse,
    LaunchFilters,
    launch_request,
    read_launch,
    read_page,
)


class Pager:
    """Walks a listing page by page: the first request, then one per page the answer lists.

    A server in the published shape pages its answers and ignores some filters; the filters
    are applied again here, so each page yields only what matches.
    """

    def __init__(self, filters: LaunchFilters, page_size: int | None = None) -> None:
        self.filters = filters
        self.page_size = page_size
        self.pages_read = 0
        self.last_page: LaunchPage | None = None

    def first_request(self) -> ApiRequest:
        params = self.filters.params()
        if self.page_size is not None:
            params.update(page="0", page_size=str(self.page_size))
        return ApiRequest("GET", "/launch", params, launch_id=self.filters.launch_id)

    def read(
        self, request: ApiRequest, response: ApiResponse
    ) -> tuple[list[Launch], ApiRequest | None]:
        page = read_page(request, response)
        self.pages_read += 1
        self.last_page = page
        return page.matching(self.filters), self._next_request(request, page)

    def _next_request(self, request: ApiRequest, page: LaunchPage) -> ApiRequest | None:
        if not page.is_paged or not page.launches or page.total_count is None:
            return None
        assert page.page is not None and page.page_size is not None
        asked = int(request.params.get("page", "0"))
        if page.page != asked:
            raise WrkBadResponseError(
                f"{request.describe()} asked for page {asked} and was answered page {page.page}.",
                endpoint=request.endpoint,
                status_code=200,
            )
        if (page.page + 1) * page.page_size >= page.total_count:
            return None
        params = dict(request.params)
        params.update(page=str(page.page + 1), page_size=str(page.page_size))
        return ApiRequest("GET", "/launch", params, launch_id=request.launch_id)


class LaunchLookup:
    """Finds one launch: by the list filter, which a server in the reference's shape honours,
    then by ``GET /launch/{id}`` when the answer shows the published, paged shape."""

    def __init__(self, launch_id: object, paged_api: bool | None) -> None:
        self.launch_id = launch_id_text(launch_id)
        self.paged_api = paged_api
        self.launch: Launch | None = None

    def first_request(self) -> ApiRequest:
        if self.paged_api:
            return launch_request(self.launch_id)
        return ApiRequest("GET", "/launch", {"launch_id": self.launch_id}, launch_id=self.launch_id)

    def read(self, request: ApiRequest, response: ApiResponse) -> ApiRequest | None:
        if request.path != "/launch":
            self.launch = read_launch(request, response)
            return None
        page = read_page(request, response)
        self.paged_api = page.is_paged
        found = [item for item in page.launches if str(item.launch_id) == self.launch_id]
        if found:
            self.launch = found[0]
            return None
        if page.is_paged:
            return launch_request(self.launch_id)
        raise self.not_found(request, response.status)

    def not_found(self, request: ApiRequest, status: int) -> WrkNotFoundError:
        return WrkNotFoundError(
            f"Launch {self.launch_id} was not found: {request.endpoint}?launch_id="
            f"{self.launch_id} answered HTTP {status} without it; check the launch id and that "
            "the key's account owns it.",
            endpoint=request.endpoint,
            launch_id=self.launch_id,
            status_code=404,
        )
