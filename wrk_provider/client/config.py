"""A client's settings, checked before anything is sent: the address, the key, timeouts."""

from __future__ import annotations

import contextlib
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import urlsplit, urlunsplit

from wrk_provider.client.errors import WrkInvalidInputError
from wrk_provider.client.retry import RetryPolicy

if TYPE_CHECKING:
    from typing_extensions import Unpack

DEFAULT_BASE_URL = "https://account.wrk.com/api/v1"
DEFAULT_AUTH_SCHEME = "Api-Key"
_DEFAULT_PATH = "/api/v1"
DEFAULT_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 10.0

_LAUNCH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")


class Secret:
    """A value that shows as ``***`` wherever it is printed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def scrub(self, text: str) -> str:
        return text.replace(self._value, "***") if self._value else text

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("A Secret is not to be pickled or serialised.")


class ClientOptions(TypedDict, total=False):
    """The settings both clients take after the key; see ``WrkClient`` for each."""

    base_url: str | None
    auth_scheme: str | None
    timeout: float | None
    connect_timeout: float | None
    retry: RetryPolicy | None
    allow_insecure_http: bool
    page_size: int | None
    allow_naive_datetimes: bool


@dataclass(frozen=True)
class ClientConfig:
    """Everything a client needs, checked once: the address, the key, timeouts, retries."""

    api_key: Secret = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    auth_scheme: str = DEFAULT_AUTH_SCHEME
    timeout: float = DEFAULT_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    page_size: int | None = None
    allow_naive_datetimes: bool = True

    @classmethod
    def create(cls, api_key: str | None, **options: Unpack[ClientOptions]) -> ClientConfig:
        unknown = sorted(set(options) - set(ClientOptions.__annotations__))
        if unknown:
            raise WrkInvalidInputError(
                f"Unknown client setting {', '.join(unknown)}: use "
                f"{', '.join(ClientOptions.__annotations__)}."
            )
        if not isinstance(api_key, str) or not api_key.strip():
            raise WrkInvalidInputError(
                "The API key is empty: set it in the connection's 'API key' (password) field."
            )
        if any(ch.isspace() for ch in api_key) or not api_key.isprintable():
            raise WrkInvalidInputError(
                "The API key holds spaces or control characters: paste the key alone, as Wrk "
                "shows it."
            )
        auth_scheme = options.get("auth_scheme")
        scheme = DEFAULT_AUTH_SCHEME if auth_scheme is None else auth_scheme
        if not _TOKEN.fullmatch(scheme):
            raise WrkInvalidInputError(
                f"auth_scheme={scheme!r} is not a single word: use 'Api-Key' (the default)."
            )
        return cls(
            api_key=Secret(api_key),
            base_url=normalise_base_url(
                options.get("base_url"),
                allow_insecure_http=bool(options.get("allow_insecure_http", False)),
            ),
            auth_scheme=scheme,
            timeout=positive_number(options.get("timeout"), "timeout", DEFAULT_TIMEOUT),
            connect_timeout=positive_number(
                options.get("connect_timeout"), "connect_timeout", DEFAULT_CONNECT_TIMEOUT
            ),
            retry=options.get("retry") or RetryPolicy(),
            page_size=_page_size(options.get("page_size")),
            allow_naive_datetimes=bool(options.get("allow_naive_datetimes", True)),
        )

    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"{self.auth_scheme} {self.api_key.reveal()}",
            "Accept": "application/json",
        }

    def url(self, path: str) -> str:
        return self.base_url + path


def is_whole_number_text(text: str) -> bool:
    """Whether ``text`` spells a whole number zero or more in ASCII digits, blanks around it
    allowed: ``int()`` would also read other scripts' digits, which no setting means."""
    return text.isascii() and text.strip().isdigit()


def positive_number(
    value: object, name: str, default: float, *, unit: str = "seconds", example: str = "30"
) -> float:
    """``value`` as a finite number above zero, or ``default`` when it is None.

    ``unit`` and ``example`` say in an error what the number counts.
    """
    if value is None:
        return default
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise WrkInvalidInputError(
            f"{name}={value!r} is not a number: give {unit}, e.g. {example}."
        )
    if not math.isfinite(value) or value <= 0:
        raise WrkInvalidInputError(
            f"{name}={value!r} must be a number above zero, in {unit}, e.g. {example}."
        )
    return float(value)


def _page_size(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise WrkInvalidInputError(f"page_size={value!r} must be a whole number from 1 to 1000.")
    return value


def normalise_base_url(url: str | None, *, allow_insecure_http: bool = False) -> str:
    """The API's base URL without a trailing slash; refuse what would leak the key."""
    if url is None or not str(url).strip():
        return DEFAULT_BASE_URL
    text = str(url).strip()
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise WrkInvalidInputError(
            f"Base URL {_shown(url)!r} holds spaces or control characters: "
            f"use e.g. {DEFAULT_BASE_URL}."
        )
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise WrkInvalidInputError(
            f"Base URL {_shown(url)!r} is malformed ({exc}): use e.g. {DEFAULT_BASE_URL}."
        ) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WrkInvalidInputError(
            f"Base URL {_shown(url)!r} is not an http(s) address: use e.g. {DEFAULT_BASE_URL}."
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise WrkInvalidInputError(
            f"Base URL {_strip_userinfo(parts)!r} must not hold a user, a query or a fragment: "
            "put the key in the connection's 'API key' field."
        )
    if parts.scheme == "http" and not (allow_insecure_http or is_loopback(parts.hostname)):
        raise WrkInvalidInputError(
            f"Base URL {url!r} is plain http to a remote host, which would send the API key "
            "unencrypted: use https, or set the connection extra allow_insecure_http to true."
        )
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if port is not None:
        netloc += f":{port}"
    path = parts.path.rstrip("/") or _DEFAULT_PATH
    return urlunsplit((parts.scheme, netloc, path, "", ""))


def _shown(url: object) -> str:
    """The URL for an error message, with any user or password in it masked."""
    text = str(url)
    scheme, separator, rest = text.partition("://")
    if not separator:
        scheme, rest = "", text
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rsplit("@", 1)[1]
    return f"{scheme}{separator}{authority}{slash}{path}"


def _strip_userinfo(parts: Any) -> str:
    return f"{parts.scheme}://{parts.hostname}{parts.path}"


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def launch_id_text(launch_id: object, name: str = "launch_id") -> str:
    """A launch id as text, refused unless it is a plain id: digits, letters, ``_.:-``."""
    if isinstance(launch_id, bool) or not isinstance(launch_id, (int, str)):
        raise WrkInvalidInputError(
            f"{name}={launch_id!r} is not a launch id: give the launch's id as an int or a "
            "string, e.g. 1223321."
        )
    if isinstance(launch_id, int):
        if launch_id < 0:
            raise WrkInvalidInputError(
                f"{name}={launch_id} is negative: give the launch's id, e.g. 1223321."
            )
        return str(launch_id)
    if not _LAUNCH_ID.fullmatch(launch_id):
        shown = launch_id if len(launch_id) <= 40 else launch_id[:40] + "..."
        raise WrkInvalidInputError(
            f"{name}={shown!r} is not a launch id: use letters, digits and '_.:-' only, at most "
            "128 characters, e.g. 1223321."
        )
    return launch_id
