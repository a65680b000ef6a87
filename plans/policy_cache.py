"""A per-process cache of policy reads that is never stale, keyed by the policy revision.

The database moves `PolicyRevision.revision` on every write to a table the cached reads depend
on (triggers, see plans 0007 and sla 0010). `contract_active` reads the revision in its own
query and records it on the contract and plans it returns (`record_revision`); the policy reads
(`plan_severities`, `plan_categories`, `contract_conditions`, `sla.terms.sla_terms`) ask this
cache only for objects that carry one, and read the database as before for any other object.

Why a hit is exact: an entry is filled after its revision was read, so it holds rows at least as
new as that revision; a request that reads the same revision later saw no policy write since
(the revision would have moved, and a sequence on PostgreSQL, the clock on SQLite, keeps a
rolled-back transaction's revision from ever coming back). The cache holds one revision: a
request with another one drops the entries (normally the revision only grows; one that went
back, after a rolled-back transaction filled entries, must not leave the cache stuck).

Cached values are shared by every request of the process and by its threads: callers must
never mutate them (model instances included: no attribute assignment, no `save()`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

from django.db import connection
from django.db.models import BigIntegerField, Model
from django.db.models.expressions import RawSQL

from plans.models import PolicyRevision

T = TypeVar("T")
_CACHE_SIZE = 1024
_ATTRIBUTE = "_policy_revision"

_entries: OrderedDict[Hashable, Any] = OrderedDict()
_revision: int | None = None
_lock = threading.Lock()


def revision_subquery() -> RawSQL:
    """The current revision as a scalar subquery, to annotate onto a query made anyway (NULL
    when the row is missing, e.g. after a test database's flush: then nothing is cached).
    Written out: compiling it as a queryset cost a request more than running it."""
    meta = PolicyRevision._meta
    table = connection.ops.quote_name(meta.db_table)
    column = connection.ops.quote_name(meta.get_field("revision").column)
    key = connection.ops.quote_name(meta.pk.column)
    return RawSQL(
        f"SELECT {table}.{column} FROM {table} WHERE {table}.{key} = 1",
        (),
        output_field=BigIntegerField(),
    )


def record_revision(obj: Model, revision: int | None) -> None:
    """Note on `obj` (a contract or plan just read) the revision read with it."""
    setattr(obj, _ATTRIBUTE, revision)


def revision_of(obj: Model) -> int | None:
    """The revision recorded on `obj`, or None (it was read without one: no caching)."""
    revision: int | None = getattr(obj, _ATTRIBUTE, None)
    return revision


def cached(obj: Model, key: Hashable, fill: Callable[[], T]) -> T:
    """The value for `key` at the revision recorded on `obj`: from the cache, else `fill()`
    (kept for the next request). Without a revision on `obj`, `fill()` every time.

    `fill` runs outside the lock (it queries); two threads may fill the same key at once, and
    either result is right."""
    revision = revision_of(obj)
    if revision is None:
        return fill()
    with _lock:
        if revision == _revision and key in _entries:
            _entries.move_to_end(key)
            return cast(T, _entries[key])
    value = fill()
    _store(revision, key, value)
    return value


def _store(revision: int, key: Hashable, value: Any) -> None:
    global _revision
    with _lock:
        if revision != _revision:
            _entries.clear()
            _revision = revision
        _entries[key] = value
        while len(_entries) > _CACHE_SIZE:
            _entries.popitem(last=False)


def clear() -> None:
    """Forget everything (tests start from an empty cache)."""
    global _revision
    with _lock:
        _entries.clear()
        _revision = None
