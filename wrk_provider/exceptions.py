"""Errors raised by the Wrk provider: ``WrkError`` and its kinds."""

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
