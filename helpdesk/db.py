"""Database helpers that Django does not provide."""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar, overload

from django.core.exceptions import ValidationError
from django.db import OperationalError, connections, models

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# SQLSTATE of PostgreSQL's transaction-rollback errors worth retrying: serialization_failure
# (psycopg's SerializationFailure) and deadlock_detected (DeadlockDetected).
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def is_retryable(exc: BaseException) -> bool:
    """A deadlock or serialization failure: the whole transaction may simply be run again."""
    cause = exc.__cause__ if isinstance(exc, OperationalError) else None
    return getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES


class StillConflicting(ValidationError):
    """Every attempt hit a deadlock or serialization failure: nothing was changed. A
    ValidationError, so the views show it as a message ("try again"), never as a 500."""

    def __init__(self) -> None:
        super().__init__(
            "Someone else was changing the same records; nothing was saved. Try again."
        )


class RetryStats:
    """How many transactions were run again, by SQLSTATE (read by tests and metrics)."""

    retried: dict[str, int] = {}

    @classmethod
    def count(cls, sqlstate: str) -> None:
        cls.retried[sqlstate] = cls.retried.get(sqlstate, 0) + 1


@overload
def retry_on_conflict(func: Callable[P, R], /) -> Callable[P, R]: ...
@overload
def retry_on_conflict(
    *, attempts: int = ..., using: str = ...
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...
def retry_on_conflict(
    func: Callable[P, R] | None = None, /, *, attempts: int = 5, using: str = "default"
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the whole transaction again when PostgreSQL aborts it with a deadlock or a
    serialization failure, up to `attempts` times with a short random pause.

    Put it *outside* `@transaction.atomic`: it retries only when it owns the outermost
    transaction (inside someone else's, the aborted transaction is the caller's to retry, so
    the error goes up unchanged). After the last attempt it raises `StillConflicting`, a
    ValidationError the views show as a message. The wrapped function must have no side effects
    outside the database before it commits (ours defer mails and tasks with `on_commit`).
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            connection = connections[using]
            for attempt in range(1, attempts + 1):
                try:
                    return func(*args, **kwargs)
                except OperationalError as exc:
                    if connection.in_atomic_block or not is_retryable(exc):
                        raise
                    if attempt == attempts:
                        raise StillConflicting() from exc
                    sqlstate = str(getattr(exc.__cause__, "sqlstate", ""))
                    RetryStats.count(sqlstate)
                    log.warning(
                        "%s: %s (SQLSTATE %s), attempt %d of %d; retrying",
                        func.__qualname__,
                        type(exc.__cause__).__name__,
                        sqlstate,
                        attempt,
                        attempts,
                    )
                    time.sleep(random.uniform(0.01, 0.05) * attempt)
            raise AssertionError("unreachable")  # pragma: no cover

        return wrapper

    return decorate(func) if func is not None else decorate


def bulk_set(objs: Sequence[models.Model], fields: Sequence[str], *, using: str = "default") -> int:
    """Save `fields` of many rows in one `UPDATE ... FROM (VALUES ...)` per batch.

    Django's `bulk_update` writes a `CASE WHEN pk = ... THEN ...` per row and field, whose
    construction costs about a millisecond per row; this costs microseconds. It works on
    PostgreSQL and SQLite 3.33+ (both name the columns of a VALUES list column1, column2, ...).
    Returns the number of rows sent.
    """
    if not objs:
        return 0
    connection = connections[using]
    model = type(objs[0])
    meta = model._meta
    pk = meta.pk
    columns: list[models.Field[Any, Any]] = [pk]
    names: list[str] = []  # the database column of each field in `fields`
    for name in fields:
        field = meta.get_field(name)
        if not isinstance(field, models.Field) or field.column is None:
            raise ValueError(f"{meta.label}.{name} is not a column")
        columns.append(field)
        names.append(field.column)
    quote = connection.ops.quote_name
    cast = connection.vendor == "postgresql"

    def placeholder(field: models.Field[Any, Any]) -> str:
        # PostgreSQL types VALUES columns from the first row; say what each column is.
        return f"CAST(%s AS {field.db_type(connection)})" if cast else "%s"

    row = "(" + ", ".join(placeholder(field) for field in columns) + ")"
    assignments = ", ".join(f"{quote(column)} = v.column{i + 2}" for i, column in enumerate(names))
    limit = connection.features.max_query_params or 65535
    per_batch = max(1, limit // len(columns))
    table = quote(meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(objs), per_batch):
            batch = objs[start : start + per_batch]
            params: list[Any] = []
            for obj in batch:
                params.append(pk.get_db_prep_value(obj.pk, connection))
                for field in columns[1:]:
                    params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row] * len(batch))})"
                f" AS v WHERE {table}.{quote(pk.column)} = v.column1",
                params,
            )
    return len(objs)
