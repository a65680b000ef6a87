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
from collections.abc import Callable, Mapping, Sequence
from types import SimpleNamespace
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


def next_id(model: type[models.Model], using: str = "default") -> int | None:
    """The primary key the next row of `model` will get, taken now from its sequence, so a row
    that stores something made of its own id (a ticket's reference) is written once, not
    inserted and then updated (each update of a ticket writes all its indexes again). None on
    databases that number rows only as they insert them (SQLite): insert, then update."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s))", [table, column])
        (value,) = cursor.fetchone()
    return int(value)


def bulk_set(
    objs: Sequence[Any],
    fields: Sequence[str],
    *,
    model: type[models.Model] | None = None,
    using: str = "default",
) -> int:
    """Save `fields` of many rows in one `UPDATE ... FROM` per batch: on PostgreSQL from the
    batch sent as one JSON parameter (`jsonb_to_recordset`), elsewhere from a VALUES list.
    `objs` are model instances, or, with `model`, anything with the primary key's and the
    fields' attributes (`SimpleNamespace(id=..., queue_id=...)`: no model instance to build
    for each row).

    Django's `bulk_update` writes a `CASE WHEN pk = ... THEN ...` per row and field, whose
    construction costs about a millisecond per row; this costs microseconds. It works on
    PostgreSQL and SQLite 3.33+ (which names the columns of a VALUES list column1, column2, ...).
    Returns the number of rows sent.
    """
    if not objs:
        return 0
    connection = connections[using]
    meta = (model or type(objs[0]))._meta
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

        def update(batch: Sequence[Any]) -> tuple[str, list[Any]]:
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


def bulk_insert(
    objs: Sequence[models.Model], *, ignore_conflicts: bool = False, using: str = "default"
) -> int:
    """Insert many new rows of one model: `bulk_create`, with the whole batch sent to
    PostgreSQL as one JSON parameter (`INSERT ... SELECT ... FROM jsonb_to_recordset`).

    Django's `bulk_create` on PostgreSQL sends an array per column (`UNNEST`): it prepares each
    value through the field's lookups and psycopg quotes every element of every array in
    Python, about 10 microseconds a value, a second for a sweep batch's notification rows;
    `json.dumps` of the same rows costs a few milliseconds. Each object gets its primary key
    (from `RETURNING`, in the order sent, as `bulk_create` does), except with
    `ignore_conflicts` (`ON CONFLICT DO NOTHING`: the rows skipped have none). Elsewhere it is
    `bulk_create`. Returns the number of rows sent."""
    if not objs:
        return 0
    connection = connections[using]
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model._default_manager.db_manager(using).bulk_create(
            objs, ignore_conflicts=ignore_conflicts
        )
        return len(objs)
    keys = _recordset_insert(connection, model, objs, adding=True, returning=not ignore_conflicts)
    pk = model._meta.pk
    for obj, key in zip(objs, keys or [None] * len(objs), strict=True):
        if key is not None:
            setattr(obj, pk.attname, key)
        obj._state.adding = False
        obj._state.db = using
    return len(objs)


def insert_rows(
    model: type[models.Model], rows: Sequence[Mapping[str, Any]], *, using: str = "default"
) -> list[Any]:
    """Insert new rows given as `{attname: value}` (`ticket_id`, not `ticket`), without building
    a model instance for each (about 20 microseconds a row, half a second for a sweep's
    notification rows); fields left out take their defaults. Values go in as they are, with
    no `pre_save` (give `auto_now` fields yourself). One INSERT, as `bulk_insert`; returns the
    new rows' primary keys in order."""
    if not rows:
        return []
    meta = model._meta
    fields = [
        f for f in meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField))
    ]
    constant = {
        f.attname: f.get_default() for f in fields if not (f.has_default() and callable(f.default))
    }
    made = {f.attname: f.get_default for f in fields if f.has_default() and callable(f.default)}
    attnames = {f.attname for f in fields}
    filled = []
    for row in rows:
        if unknown := row.keys() - attnames:
            raise ValueError(f"{meta.label} has no field {', '.join(sorted(unknown))}")
        values = {**constant, **row}
        for attname, default in made.items():
            if attname not in row:
                values[attname] = default()
        filled.append(SimpleNamespace(**values))
    connection = connections[using]
    if connection.vendor != "postgresql":
        objs = [model(**vars(values)) for values in filled]
        model._default_manager.db_manager(using).bulk_create(objs)
        return [obj.pk for obj in objs]
    return _recordset_insert(connection, model, filled, adding=False, returning=True) or []


def _recordset_insert(
    connection: Any,
    model: type[models.Model],
    objs: Sequence[Any],
    *,
    adding: bool,
    returning: bool,
) -> list[Any] | None:
    """PostgreSQL: `INSERT ... SELECT ... FROM jsonb_to_recordset(...)` of `objs` (model
    instances, or anything with an attribute per field); the new primary keys when
    `returning`, else `ON CONFLICT DO NOTHING` and None."""
    meta = model._meta
    pk = meta.pk
    columns = [
        field
        for field in meta.concrete_fields
        if not (field.primary_key and isinstance(field, models.AutoField))
    ]
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in columns)
    picked = ", ".join(f"v.column{i + 1}" for i in range(len(columns)))
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({names}) SELECT {picked}"
        f" FROM jsonb_to_recordset(CAST(%s AS jsonb)) AS v({_recordset_types(connection, columns)})"
    )
    sql += f" RETURNING {quote(pk.column)}" if returning else " ON CONFLICT DO NOTHING"
    insert = _recordset_rows(connection, sql, columns, adding=adding)
    with connection.cursor() as cursor:
        cursor.execute(*insert(objs))
        return [key for (key,) in cursor.fetchall()] if returning else None


def _prep(field: models.Field[Any, Any], obj: Any, connection: Any) -> Any:
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
) -> Callable[[Sequence[Any]], tuple[str, list[Any]]]:
    """PostgreSQL: the whole batch as one JSON parameter, read back by `jsonb_to_recordset`
    with each column's type. A VALUES list needs a placeholder per row and column, and psycopg
    takes about as long to parse a statement with tens of thousands of them (or to quote as
    many array elements) as the database takes to run it; `json.dumps` costs microseconds."""
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(c)} = v.column{i + 2}" for i, c in enumerate(names))
    sql = (
        f"UPDATE {table} SET {assignments} FROM jsonb_to_recordset(CAST(%s AS jsonb))"
        f" AS v({_recordset_types(connection, columns)})"
        f" WHERE {table}.{quote(columns[0].column)} = v.column1"
    )
    return _recordset_rows(connection, sql, columns)


def _recordset_types(connection: Any, columns: list[models.Field[Any, Any]]) -> str:
    """`column1 bigint, column2 jsonb, ...`: the record `jsonb_to_recordset` reads."""
    types = [
        "jsonb" if isinstance(field, models.JSONField) else field.db_type(connection)
        for field in columns
    ]
    return ", ".join(f"column{i + 1} {kind}" for i, kind in enumerate(types))


# Values that reach PostgreSQL unchanged through a field's `get_db_prep_save` (on PostgreSQL
# it hands these to the driver as they are) and that `json.dumps` (with `_json_value`) writes
# in a form PostgreSQL reads back as the same value; strings (choices members included) too.
# Anything else (an integer choice, a naive datetime, a Decimal, a lazy string) goes through
# the field first.
_PLAIN = frozenset({str, int, bool, type(None), uuid.UUID, dt.timedelta, dt.date})


def _recordset_rows(
    connection: Any, sql: str, columns: list[models.Field[Any, Any]], *, adding: bool = False
) -> Callable[[Sequence[Any]], tuple[str, list[Any]]]:
    """The statement with the batch's rows as its one JSON parameter (`column1`, ... in the
    order of `columns`). `adding`: new rows, whose fields fill themselves in first (`pre_save`:
    `auto_now_add` and the like), as Django's own INSERT does.

    Each value costs a `getattr` and a type check when it is plain (most are); the field's own
    preparation runs only for the others, so a batch of 40,000 rows is not a million calls."""
    keys = [f"column{i + 1}" for i in range(len(columns))]

    def getter(field: models.Field[Any, Any]) -> Callable[[models.Model], Any]:
        attname = field.attname
        if isinstance(field, models.JSONField):
            encoder = field.encoder

            def json_value(obj: models.Model) -> Any:
                raw = field.pre_save(obj, add=True) if adding else getattr(obj, attname)
                if encoder is None or raw is None:
                    return raw
                return jsonlib.loads(jsonlib.dumps(raw, cls=encoder))

            return json_value
        fills_in = (
            adding
            and type(field).pre_save is not models.Field.pre_save
            and not (  # a date without auto_now(_add) has nothing to fill in
                isinstance(field, models.DateField) and not (field.auto_now or field.auto_now_add)
            )
        )

        def column_value(obj: models.Model) -> Any:
            raw = field.pre_save(obj, add=True) if fills_in else getattr(obj, attname)
            kind = type(raw)
            if (
                kind in _PLAIN
                or isinstance(raw, str)  # a choices member too: it is its value
                or (kind is dt.datetime and raw.tzinfo is not None)
            ):
                return raw
            if field.primary_key:
                return field.get_db_prep_value(raw, connection)
            return field.get_db_prep_save(raw, connection)

        return column_value

    getters = list(zip(keys, [getter(field) for field in columns], strict=True))

    def update(batch: Sequence[Any]) -> tuple[str, list[Any]]:
        rows = [{key: get(obj) for key, get in getters} for obj in batch]
        return sql, [jsonlib.dumps(rows, default=_json_value)]

    return update
