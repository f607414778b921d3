"""Errors raised by the Wrk provider: ``WrkError`` and its kinds."""

from wrk_provider.client import errors as _errors
from wrk_provider.client.errors import *  # noqa: F403

__all__ = _errors.__all__
