"""`retry_on_conflict`: a deadlock or serialization failure runs the transaction again."""

from __future__ import annotations

import psycopg.errors
import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError

from helpdesk.db import RetryStats, StillConflicting, is_retryable, retry_on_conflict


def conflict(error: type[Exception]) -> OperationalError:
    """What Django raises when PostgreSQL aborts a transaction (the psycopg error as cause)."""
    try:
        raise OperationalError("aborted") from error()
    except OperationalError as exc:
        return exc


def flaky(failures: list[Exception]) -> tuple[list[int], object]:
    calls: list[int] = []

    @retry_on_conflict
    def work(value: int) -> int:
        calls.append(value)
        if failures:
            raise failures.pop(0)
        return value * 2

    return calls, work


def test_it_runs_the_transaction_again_after_a_deadlock_or_serialization_failure() -> None:
    before = dict(RetryStats.retried)
    calls, work = flaky(
        [conflict(psycopg.errors.DeadlockDetected), conflict(psycopg.errors.SerializationFailure)]
    )
    assert work(21) == 42  # type: ignore[operator]
    assert calls == [21, 21, 21]
    assert RetryStats.retried.get("40P01", 0) == before.get("40P01", 0) + 1
    assert RetryStats.retried.get("40001", 0) == before.get("40001", 0) + 1


def test_it_gives_up_after_its_attempts_with_a_message_not_a_server_error() -> None:
    calls, work = flaky([conflict(psycopg.errors.DeadlockDetected) for _ in range(5)])
    with pytest.raises(ValidationError, match="nothing was saved. Try again.") as raised:
        work(1)  # type: ignore[operator]
    assert isinstance(raised.value, StillConflicting)
    assert len(calls) == 5


def test_other_database_errors_are_not_retried() -> None:
    calls, work = flaky([conflict(psycopg.errors.QueryCanceled)])
    with pytest.raises(OperationalError):
        work(1)  # type: ignore[operator]
    assert calls == [1]
    assert not is_retryable(conflict(psycopg.errors.QueryCanceled))


@pytest.mark.django_db
def test_inside_a_callers_transaction_the_error_goes_up_unchanged() -> None:
    # The test runs in a transaction: the aborted work is the caller's to retry.
    calls, work = flaky([conflict(psycopg.errors.DeadlockDetected)])
    with pytest.raises(OperationalError):
        work(1)  # type: ignore[operator]
    assert calls == [1]
