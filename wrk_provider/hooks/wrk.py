"""``WrkHook``: an Airflow connection turned into a Wrk API client."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowNotFoundException, BaseHook

from wrk_provider.client.config import is_whole_number_text, positive_number
from wrk_provider.client.errors import WrkError, WrkInvalidInputError

if TYPE_CHECKING:
    from wrk_provider.client.aio import AsyncWrkClient
    from wrk_provider.client.models import Launch, Wrkflow
    from wrk_provider.client.sync import WrkClient

DEFAULT_MAX_REQUESTS_PER_SECOND = 10.0
"""The triggerer's request budget per connection, unless the ``max_requests_per_second`` extra
says otherwise: enough for a few hundred waits, far below a rate limit's usual 429s."""

_BOOL_TRUE = {"true", "1", "yes", "on"}
_BOOL_FALSE = {"false", "0", "no", "off", ""}


class WrkHook(BaseHook):
    """Talks to the Wrk API with the key and settings of an Airflow connection.

    The connection's host is the API's base URL (default ``https://account.wrk.com/api/v1``)
    and its password the API key. Extras: ``timeout``, ``connect_timeout``, ``max_retries``,
    ``retry_wait``, ``retry_max_wait``, ``auth_scheme``, ``allow_insecure_http``, ``page_size``
    ``ui_url`` and ``max_requests_per_second`` (the triggerer's budget). Nothing is read or
    sent until a method needs it.

    :param wrk_conn_id: the Airflow connection to use.
    :param timeout: seconds to wait for an answer; overrides the ``timeout`` extra.
    :param max_retries: retries on 429, 500, 502, 503, 504 and connection errors; overrides
        ``max_retries``.
    :param retry_wait: the first backoff in seconds; overrides ``retry_wait``.
    :param retry_max_wait: the longest single backoff in seconds; overrides ``retry_max_wait``.
    """

    conn_name_attr = "wrk_conn_id"
    default_conn_name = "wrk_default"
    conn_type = "wrk"
    hook_name = "Wrk"

    def __init__(
        self,
        wrk_conn_id: str = default_conn_name,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        retry_wait: float | None = None,
        retry_max_wait: float | None = None,
    ) -> None:
        super().__init__()
        self.wrk_conn_id = wrk_conn_id
        self._overrides: dict[str, Any] = {
            "timeout": timeout,
            "max_retries": max_retries,
            "retry_wait": retry_wait,
            "retry_max_wait": retry_max_wait,
        }
        self._client: WrkClient | None = None

    def __repr__(self) -> str:
        return f"WrkHook(wrk_conn_id={self.wrk_conn_id!r})"

    # The connection form.

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Relabelled and hidden fields of the connection form (Airflow before 3.2)."""
        from wrk_provider import get_provider_info

        behaviour = get_provider_info()["connection-types"][0]["ui-field-behaviour"]
        return {
            "hidden_fields": behaviour["hidden-fields"],
            "relabeling": behaviour["relabeling"],
            "placeholders": behaviour["placeholders"],
        }

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Extra fields of the connection form (Airflow before 3.2, where Flask forms exist)."""
        try:
            from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
            from flask_babel import lazy_gettext
            from wtforms import BooleanField, StringField
        except ImportError:
            return {}
        from wrk_provider import get_provider_info

        fields = get_provider_info()["connection-types"][0]["conn-fields"]
        widgets: dict[str, Any] = {}
        for name, spec in fields.items():
            label = lazy_gettext(spec["label"])
            if "boolean" in spec["schema"]["type"]:
                widgets[name] = BooleanField(label, description=spec["description"])
            else:
                widgets[name] = StringField(
                    label, widget=BS3TextFieldWidget(), description=spec["description"]
                )
        return widgets

    # Building clients.

    def get_conn(self) -> WrkClient:
        """The sync client, built on first use and reused."""
        if self._client is None:
            from wrk_provider.client.sync import WrkClient

            connection = self._connection()
            with self._naming_connection():
                self._client = WrkClient(**self._client_options(connection))
        return self._client

    async def get_async_conn(self) -> AsyncWrkClient:
        """A new async client, its connection looked up without blocking the event loop.

        The caller owns it and closes it with ``await client.aclose()``.
        """
        from airflow.providers.common.compat.connection import get_async_connection

        from wrk_provider.client.aio import AsyncWrkClient

        try:
            connection = await get_async_connection(self.wrk_conn_id)
        except AirflowNotFoundException:
            raise self._missing() from None
        with self._naming_connection():
            options = self._client_options(connection)
            rate = _extras(connection).get("max_requests_per_second")
            options["max_requests_per_second"] = positive_number(
                rate,
                "max_requests_per_second",
                DEFAULT_MAX_REQUESTS_PER_SECOND,
                unit="requests per second",
                example="10",
            )
            return AsyncWrkClient(**options)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _connection(self) -> Any:
        try:
            return self.get_connection(self.wrk_conn_id)
        except AirflowNotFoundException:
            raise self._missing() from None

    def _missing(self) -> WrkInvalidInputError:
        return WrkInvalidInputError(
            f"Connection {self.wrk_conn_id!r} is not defined: create a connection of type wrk "
            f"with that id, or set AIRFLOW_CONN_{self.wrk_conn_id.upper()}."
        )

    @contextlib.contextmanager
    def _naming_connection(self) -> Iterator[None]:
        """Prefix a settings error with the connection it came from."""
        try:
            yield
        except WrkInvalidInputError as exc:
            joint = " " if exc.message.startswith("has ") else ": "
            raise WrkInvalidInputError(
                f"Connection {self.wrk_conn_id!r}{joint}{exc.message}"
            ) from None

    def _client_options(self, connection: Any) -> dict[str, Any]:
        from wrk_provider.client.retry import RetryPolicy

        extras = _extras(connection)
        settings = {**extras, **{k: v for k, v in self._overrides.items() if v is not None}}
        if not connection.password:
            raise WrkInvalidInputError(
                "has no API key: put the key in its 'API key' (password) field."
            )
        return {
            "api_key": connection.password,
            "base_url": _base_url(connection),
            "auth_scheme": settings.get("auth_scheme") or None,
            "timeout": settings.get("timeout"),
            "connect_timeout": settings.get("connect_timeout"),
            "retry": RetryPolicy.create(
                settings.get("max_retries"),
                settings.get("retry_wait"),
                settings.get("retry_max_wait"),
            ),
            "allow_insecure_http": _flag(settings.get("allow_insecure_http")),
            "page_size": _whole(settings.get("page_size"), "page_size"),
        }

    def get_ui_url(self) -> str:
        """Where the Wrk app lives, for links to a launch's page."""
        from wrk_provider import DEFAULT_UI_URL

        connection = self._connection()
        with self._naming_connection():
            extras = _extras(connection)
        return str(extras.get("ui_url") or DEFAULT_UI_URL).rstrip("/")

    # The API, through the sync client.

    def get_launches(self, **filters: Any) -> list[Launch]:
        """Launches matching the filters, newest first. See ``WrkClient.get_launches``."""
        return self.get_conn().get_launches(**filters)

    def iter_launches(self, **filters: Any) -> Iterator[Launch]:
        """Launches matching the filters, one page held at a time."""
        return self.get_conn().iter_launches(**filters)

    def get_launch(self, launch_id: int | str) -> Launch:
        """One launch; ``WrkNotFoundError`` when it does not exist."""
        return self.get_conn().get_launch(launch_id)

    def pause_launch(self, launch_id: int | str) -> bool:
        """Ask Wrk to pause the launch. True once Wrk has accepted."""
        return self.get_conn().pause_launch(launch_id)

    def resume_launch(self, launch_id: int | str) -> bool:
        """Ask Wrk to resume the launch. True once Wrk has accepted."""
        return self.get_conn().resume_launch(launch_id)

    def get_wrkflow(self, wrkflow_uuid: str) -> Wrkflow:
        """A wrkflow, with ``launches`` and ``get_launches(**filters)`` as Wrk documents them."""
        return self.get_conn().get_wrkflow(wrkflow_uuid)

    def test_connection(self) -> tuple[bool, str]:
        """Prove the address and the key with one listing request."""
        try:
            client = self.get_conn()
            page = client.check()
        except WrkError as error:
            return False, str(error)
        count = page.total_count if page.total_count is not None else len(page.launches)
        return True, f"Connected to {client.config.base_url}: {count} launches visible."


def _extras(connection: Any) -> Mapping[str, Any]:
    raw = getattr(connection, "extra", None)
    if not raw:
        return {}
    if isinstance(raw, Mapping):
        return raw
    try:
        extras = json.loads(raw)
    except ValueError:
        raise WrkInvalidInputError(
            'has extras that are not JSON: write them as a JSON object, e.g. {"timeout": 30}.'
        ) from None
    if not isinstance(extras, Mapping):
        raise WrkInvalidInputError(
            'has extras that are not a JSON object: write e.g. {"timeout": 30}.'
        )
    return extras


def _base_url(connection: Any) -> str | None:
    host = (connection.host or "").strip()
    if not host:
        return None
    if "://" in host:
        return host
    port = f":{connection.port}" if connection.port else ""
    path = f"/{connection.schema.strip('/')}" if connection.schema else ""
    return f"{host}{port}{path}"


def _flag(value: object) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in _BOOL_TRUE | _BOOL_FALSE:
        return text in _BOOL_TRUE
    raise WrkInvalidInputError(f"allow_insecure_http={value!r} must be true or false.")


def _whole(value: object, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and is_whole_number_text(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise WrkInvalidInputError(f"{name}={value!r} must be a whole number.")
