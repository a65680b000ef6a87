"""Database helpers that Django does not provide."""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import json as jsonlib
import logging
import random
import time
import uuid
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
    """Save `fields` of many rows in one `UPDATE ... FROM` per batch: on PostgreSQL from the
    batch sent as one JSON parameter (`jsonb_to_recordset`), elsewhere from a VALUES list.

    Django's `bulk_update` writes a `CASE WHEN pk = ... THEN ...` per row and field, whose
    construction costs about a millisecond per row; this costs microseconds. It works on
    PostgreSQL and SQLite 3.33+ (which names the columns of a VALUES list column1, column2, ...).
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
    limit = connection.features.max_query_params or 65535
    per_batch = max(1, limit // len(columns))
    table = quote(meta.db_table)
    if connection.vendor == "postgresql":
        update = _recordset_update(connection, table, columns, names)
    else:
        row = "(" + ", ".join("%s" for _ in columns) + ")"
        assignments = ", ".join(f"{quote(c)} = v.column{i + 2}" for i, c in enumerate(names))

        def update(batch: Sequence[models.Model]) -> tuple[str, list[Any]]:
            params = [_prep(field, obj, connection) for obj in batch for field in columns]
            return (
                f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row] * len(batch))})"
                f" AS v WHERE {table}.{quote(pk.column)} = v.column1",
                params,
            )

    with connection.cursor() as cursor:
        for start in range(0, len(objs), per_batch):
            cursor.execute(*update(objs[start : start + per_batch]))
    return len(objs)


def _prep(field: models.Field[Any, Any], obj: models.Model, connection: Any) -> Any:
    value = getattr(obj, field.attname)
    return (
        field.get_db_prep_value(value, connection)
        if field.primary_key
        else (field.get_db_prep_save(value, connection))
    )


def _json_value(value: Any) -> Any:
    """`json.dumps`'s fallback for what PostgreSQL reads back from text in a JSON record."""
    if isinstance(value, dt.timedelta):
        return f"{value.days} days {value.seconds} seconds {value.microseconds} microseconds"
    if isinstance(value, dt.date | dt.time):  # datetimes too: ISO 8601 with the offset
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    raise TypeError(f"bulk_set cannot send {type(value).__name__} values")


def _recordset_update(
    connection: Any, table: str, columns: list[models.Field[Any, Any]], names: list[str]
) -> Callable[[Sequence[models.Model]], tuple[str, list[Any]]]:
    """PostgreSQL: the whole batch as one JSON parameter, read back by `jsonb_to_recordset`
    with each column's type. A VALUES list needs a placeholder per row and column, and psycopg
    takes about as long to parse a statement with tens of thousands of them (or to quote as
    many array elements) as the database takes to run it; `json.dumps` costs microseconds."""
    quote = connection.ops.quote_name
    json_fields = [isinstance(field, models.JSONField) for field in columns]
    types = ", ".join(
        f"column{i + 1} {'jsonb' if is_json else field.db_type(connection)}"
        for i, (field, is_json) in enumerate(zip(columns, json_fields, strict=True))
    )
    assignments = ", ".join(f"{quote(c)} = v.column{i + 2}" for i, c in enumerate(names))
    sql = (
        f"UPDATE {table} SET {assignments} FROM jsonb_to_recordset(CAST(%s AS jsonb))"
        f" AS v({types}) WHERE {table}.{quote(columns[0].column)} = v.column1"
    )
    keys = [f"column{i + 1}" for i in range(len(columns))]
    encoders = {
        field.attname: field.encoder  # type: ignore[attr-defined]
        for field, is_json in zip(columns, json_fields, strict=True)
        if is_json and field.encoder  # type: ignore[attr-defined]
    }

    def value(field: models.Field[Any, Any], is_json: bool, obj: models.Model) -> Any:
        raw = getattr(obj, field.attname)
        if not is_json:
            return _prep(field, obj, connection)
        encoder = encoders.get(field.attname)
        return (
            raw
            if encoder is None or raw is None
            else jsonlib.loads(jsonlib.dumps(raw, cls=encoder))
        )

    def update(batch: Sequence[models.Model]) -> tuple[str, list[Any]]:
        rows = [
            {
                key: value(field, is_json, obj)
                for key, field, is_json in zip(keys, columns, json_fields, strict=True)
            }
            for obj in batch
        ]
        return sql, [jsonlib.dumps(rows, default=_json_value)]

    return update
