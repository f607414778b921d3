"""Retry-After parsing, the bounds of the backoff, and which errors are retried."""

from __future__ import annotations

import random
import time
from email.utils import formatdate

import pytest

from wrk_provider.client.errors import (
    WrkAPIError,
    WrkAuthenticationError,
    WrkBadResponseError,
    WrkInvalidInputError,
    WrkNotFoundError,
    WrkRateLimitedError,
    WrkRefusedError,
    WrkServerError,
    WrkUnreachableError,
)
from wrk_provider.client.retry import RetryPolicy, gave_up, is_retryable, parse_retry_after

NOW = 1_728_673_181.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("1", 1.0),
        ("0", 0.0),
        (" 120 ", 120.0),
        ("2.5", 2.5),
        ("-3", 0.0),
        (formatdate(NOW + 30, usegmt=True), 30.0),
        ("Fri, 11 Oct 2024 19:00:11 GMT", 30.0),
        ("Fri, 11 Oct 2024 18:00:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(header: str, seconds: float) -> None:
    assert parse_retry_after(header, now=NOW) == pytest.approx(seconds)


@pytest.mark.parametrize("header", [None, "", "  ", "soon", "inf", "nan", "Fri, 99 Foo 2024"])
def test_parse_retry_after_ignores_what_it_cannot_read(header: str | None) -> None:
    assert parse_retry_after(header, now=NOW) is None


def test_parse_retry_after_reads_an_unzoned_date_as_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        waited = parse_retry_after("Fri, 11 Oct 2024 19:00:11 -0000", now=NOW)
    finally:
        monkeypatch.undo()
        time.tzset()

    assert waited == pytest.approx(30.0)


def test_parse_retry_after_uses_the_clock() -> None:
    waited = parse_retry_after(formatdate(time.time() + 60, usegmt=True))

    assert waited is not None and 58 <= waited <= 60


def test_policy_defaults() -> None:
    policy = RetryPolicy()

    assert (policy.max_attempts, policy.initial_wait, policy.max_wait) == (5, 1.0, 30.0)
    assert RetryPolicy.create() == policy


@pytest.mark.parametrize(
    ("retries", "attempts"), [(0, 1), (1, 2), ("3", 4), (4.0, 5), (20, 21), ("0", 1)]
)
def test_policy_from_max_retries(retries: object, attempts: int) -> None:
    assert RetryPolicy.create(max_retries=retries).max_attempts == attempts


@pytest.mark.parametrize(
    ("retries", "words"),
    [
        (21, "max_retries=21 must be a whole number from 0 to 20."),
        (-1, "max_retries=-1 must be a whole number from 0 to 20."),
        (2.5, "max_retries=2.5 must be a whole number"),
        ("x", "max_retries='x' is not a number."),
        ("inf", "max_retries='inf' must be a whole number from 0 to 20."),
        ("nan", "max_retries='nan' must be a whole number from 0 to 20."),
        (True, "max_retries=True is not a number."),
        ([3], "max_retries=[3] is not a number."),
    ],
)
def test_policy_refuses_bad_max_retries(retries: object, words: str) -> None:
    with pytest.raises(WrkInvalidInputError) as caught:
        RetryPolicy.create(max_retries=retries)

    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("initial", "cap"), [(-1, None), (None, -1), (float("inf"), None), ("nan", None)]
)
def test_policy_refuses_bad_waits(initial: object, cap: object) -> None:
    with pytest.raises(WrkInvalidInputError, match="must be seconds, zero or more"):
        RetryPolicy.create(initial_wait=initial, max_wait=cap)


def test_policy_waits_from_text_and_a_cap_below_the_first_wait() -> None:
    policy = RetryPolicy.create(initial_wait="0.5", max_wait="0.1")

    assert (policy.initial_wait, policy.max_wait) == (0.5, 0.5)


def test_backoff_stays_within_its_bounds() -> None:
    policy = RetryPolicy(max_attempts=10, initial_wait=0.5, max_wait=4.0)
    random.seed(7)

    for attempt in range(1, 10):
        ceiling = min(4.0, 0.5 * 2 ** (attempt - 1))
        waits = [policy.backoff(attempt) for _ in range(200)]
        assert all(0 <= wait <= ceiling for wait in waits)
        assert max(waits) > ceiling / 2


def test_backoff_honours_retry_after_up_to_max_wait() -> None:
    policy = RetryPolicy(initial_wait=0.01, max_wait=10.0)

    assert policy.backoff(1, retry_after=3.0) == 3.0
    assert policy.backoff(4, retry_after=0.0) == 0.0
    assert policy.backoff(1, retry_after=600.0) == 10.0
    assert policy.backoff(1, retry_after=-5.0) == 0.0


def test_zero_waits() -> None:
    assert RetryPolicy(initial_wait=0.0, max_wait=0.0).backoff(3) == 0.0


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (WrkUnreachableError("x"), True),
        (WrkRateLimitedError("x", status_code=429), True),
        (WrkServerError("x", status_code=500), True),
        (WrkServerError("x", status_code=502), True),
        (WrkServerError("x", status_code=503), True),
        (WrkServerError("x", status_code=504), True),
        (WrkServerError("x", status_code=501), False),
        (WrkAuthenticationError("x", status_code=401), False),
        (WrkNotFoundError("x", status_code=404), False),
        (WrkAPIError("x", status_code=400), False),
        (WrkAPIError("x", status_code=409), False),
        (WrkBadResponseError("x", status_code=200), False),
        (WrkRefusedError("x", status_code=200), False),
        (WrkInvalidInputError("x"), False),
        (ValueError("x"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_what_is_retried(error: Exception, retried: bool) -> None:
    assert is_retryable(error) is retried


def test_gave_up_says_how_many_attempts() -> None:
    error = WrkServerError("GET /launch failed with HTTP 503.", status_code=503)

    same = gave_up(error, 3)

    assert same is error
    assert str(error) == "GET /launch failed with HTTP 503. Gave up after 3 attempts."
    assert error.args == (str(error),)
    assert error.attempts == 3


def test_gave_up_after_one_attempt_says_nothing() -> None:
    error = WrkNotFoundError("GET /launch/7 failed with HTTP 404.")

    assert str(gave_up(error, 1)) == "GET /launch/7 failed with HTTP 404."
    assert error.attempts == 1
