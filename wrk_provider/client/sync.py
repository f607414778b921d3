"""``WrkClient``: the Wrk API over one ``requests.Session``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import requests
import tenacity

from wrk_provider.client import paging, protocol
from wrk_provider.client.config import ClientConfig, ClientOptions
from wrk_provider.client.errors import WrkError, WrkInvalidInputError
from wrk_provider.client.models import Launch, LaunchPage, Wrkflow
from wrk_provider.client.protocol import ApiRequest, ApiResponse
from wrk_provider.client.retry import gave_up, retry_options

if TYPE_CHECKING:
    from typing_extensions import Unpack


class _ApiKeyAuth(requests.auth.AuthBase):
    """Sets the Authorization header; being set, it also keeps ``.netrc`` out of the way."""

    def __init__(self, config: ClientConfig) -> None:
        self._config = config

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.update(self._config.headers())
        return request

    def __repr__(self) -> str:
        return "<ApiKeyAuth ***>"


class WrkClient:
    """A client for the Wrk Launches API.

    :param api_key: the account's API key, sent as ``Authorization: Api-Key <key>``.
    :param base_url: the API's address; plain ``http`` only to a loopback host or with
        ``allow_insecure_http``.
    :param auth_scheme: the word before the key in the Authorization header.
    :param timeout: seconds to wait for an answer (read timeout).
    :param connect_timeout: seconds to wait for a connection.
    :param retry: how often and how patiently to retry 429, 500, 502, 503, 504 and connection
        trouble.
    :param allow_insecure_http: allow a plain ``http`` base URL to a remote host.
    :param page_size: ask a paging server for pages of this many launches.
    :param allow_naive_datetimes: read a date filter without a time zone as UTC (the default)
        instead of refusing it.
    :param session: a ``requests.Session`` to use instead of a new one.
    """

    def __init__(
        self,
        api_key: str,
        *,
        session: requests.Session | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        self.config = ClientConfig.create(api_key, **options)
        self._session = session or requests.Session()
        self._session.auth = _ApiKeyAuth(self.config)
        self._paged_api: bool | None = None

    def __repr__(self) -> str:
        return f"WrkClient(base_url={self.config.base_url!r})"

    def __enter__(self) -> WrkClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    # The API, as a user would say it.

    def get_launches(self, **filters: Any) -> list[Launch]:
        """Launches matching the filters, newest first, from every page.

        Filters: ``launch_id``, ``status_code`` (1/2/3, a status name or ``LaunchStatus``),
        ``wrkflow_uuid``, ``lower_start_date`` and ``upper_start_date`` (inclusive; a datetime,
        a unix time or an ISO-8601 string; naive values are read as UTC).
        """
        launches = list(self.iter_launches(**filters))
        launches.sort(key=lambda launch: launch.start_timestamp, reverse=True)
        return launches

    def iter_launches(self, **filters: Any) -> Iterator[Launch]:
        """Like :meth:`get_launches`, in the server's order, holding one page at a time."""
        pager = paging.Pager(self._filters(filters), self.config.page_size)
        request: ApiRequest | None = pager.first_request()
        while request is not None:
            launches, request = pager.read(request, self._send(request))
            self._paged_api = pager.last_page is not None and pager.last_page.is_paged
            for launch in launches:
                yield launch._bind_fresh(self)

    def get_launch(self, launch_id: int | str) -> Launch:
        """The launch with this id; ``WrkNotFoundError`` when there is none."""
        lookup = paging.LaunchLookup(launch_id, self._paged_api)
        request: ApiRequest | None = lookup.first_request()
        while request is not None:
            request = lookup.read(request, self._send(request))
        self._paged_api = lookup.paged_api
        assert lookup.launch is not None
        return lookup.launch._bind_fresh(self)

    def pause_launch(self, launch_id: int | str) -> bool:
        """Ask the API to pause the launch; True once it has accepted."""
        request = protocol.action_request(launch_id, "pause")
        return protocol.read_action(request, self._send(request), "pause")

    def resume_launch(self, launch_id: int | str) -> bool:
        """Ask the API to resume the launch; True once it has accepted."""
        request = protocol.action_request(launch_id, "resume")
        return protocol.read_action(request, self._send(request), "resume")

    def get_wrkflow(self, wrkflow_uuid: str) -> Wrkflow:
        """The wrkflow, to list its launches: ``client.get_wrkflow(uuid).launches``."""
        if not isinstance(wrkflow_uuid, str) or not wrkflow_uuid.strip():
            raise WrkInvalidInputError(
                f"wrkflow_uuid={wrkflow_uuid!r} is not a wrkflow uuid: give it as a string."
            )
        return Wrkflow(wrkflow_uuid.strip(), self)

    def check(self) -> LaunchPage:
        """One cheap request that proves the address and the key: the first page of launches."""
        request = paging.Pager(protocol.LaunchFilters()).first_request()
        return protocol.read_page(request, self._send(request))

    # Sending.

    def _filters(self, filters: dict[str, Any]) -> protocol.LaunchFilters:
        return protocol.LaunchFilters.create(
            allow_naive=self.config.allow_naive_datetimes, **filters
        )

    def _send(self, request: ApiRequest) -> ApiResponse:
        policy = self.config.retry
        retrying = tenacity.Retrying(**retry_options(policy))
        try:
            return retrying(self._send_once, request)
        except WrkError as error:
            raise gave_up(error, retrying.statistics.get("attempt_number", 1)) from None

    def _send_once(self, request: ApiRequest) -> ApiResponse:
        try:
            answer = self._session.request(
                request.method,
                self.config.url(request.path),
                params=request.params or None,
                json=request.json_body,
                timeout=(self.config.connect_timeout, self.config.timeout),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise protocol.unreachable(
                request, self.config.base_url, _describe_failure(exc)
            ) from None
        response = ApiResponse(answer.status_code, answer.headers, answer.content, answer.reason)
        protocol.raise_for_status(request, response, self.config.api_key)
        return response


def _describe_failure(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, requests.ReadTimeout):
        return "no answer within the read timeout"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed or was dropped"
    return type(exc).__name__
