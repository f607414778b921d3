"""The errors the Wrk client raises: one base, a shallow tree of kinds."""

from __future__ import annotations

from typing import Any


class WrkError(Exception):
    """Base of every error raised by this provider's Wrk client.

    The message is one line. It names the endpoint, the launch, the HTTP status and the
    server's own words where they are known, and says what to do. It never holds the API key.
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        launch_id: str | None = None,
        status_code: int | None = None,
        server_message: str | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.endpoint = endpoint
        self.launch_id = launch_id
        self.status_code = status_code
        self.server_message = server_message
        self.attempts = attempts

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.__dict__.copy()))


def _rebuild(cls: type[WrkError], message: str, state: dict[str, Any]) -> WrkError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


# Input the caller gave us: refused before any request is sent.


class WrkInvalidInputError(WrkError, ValueError):
    """An argument or a connection setting is wrong; nothing was sent."""


# The API could not be reached, or kept failing in a way worth retrying.


class WrkUnreachableError(WrkError):
    """The API did not answer: connection refused, dropped or timed out, after every retry."""


# The API answered, and the answer was an error.


class WrkAPIError(WrkError):
    """The API answered with an HTTP error status."""


class WrkAuthenticationError(WrkAPIError):
    """The API refused the key (401) or its permissions (403)."""


class WrkNotFoundError(WrkAPIError):
    """The launch, or the endpoint, does not exist (404)."""


class WrkRateLimitedError(WrkAPIError):
    """The API kept answering 429 Too Many Requests after every retry."""


class WrkServerError(WrkAPIError):
    """The API kept failing with a 5xx status after every retry."""


# The API answered, but not as documented.


class WrkBadResponseError(WrkError):
    """The answer was not JSON, or a field was missing or of the wrong type."""


class WrkRefusedError(WrkError):
    """The API answered that it would not pause or resume the launch."""


__all__ = [
    "WrkAPIError",
    "WrkAuthenticationError",
    "WrkBadResponseError",
    "WrkError",
    "WrkInvalidInputError",
    "WrkNotFoundError",
    "WrkRateLimitedError",
    "WrkRefusedError",
    "WrkServerError",
    "WrkUnreachableError",
]
