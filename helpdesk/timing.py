"""The acting instant: when the ticket and SLA services say something happened.

`now()` is the real time unless a caller replays history with `acting_at(instant)`, for example
the demo data, which opens tickets and moves them along at past instants through the same
services as production, so every ticket gets the clocks, events and escalations it really would.
A leaf: imports only Django's time zone helper. The instant lives in a context variable, so
threads and async tasks each see their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.utils import timezone

_acting_at: ContextVar[dt.datetime | None] = ContextVar("acting_at", default=None)


def now() -> dt.datetime:
    """The instant the services act at: the replayed instant inside `acting_at`, else now."""
    instant = _acting_at.get()
    return instant if instant is not None else timezone.now()


@contextmanager
def acting_at(instant: dt.datetime) -> Iterator[dt.datetime]:
    """Inside the block, `now()` is `instant` (an aware datetime). Blocks nest; leaving one
    restores the instant of the enclosing block, or the real time."""
    if timezone.is_naive(instant):
        raise ValueError(f"acting_at needs an aware datetime, got {instant!r}")
    token = _acting_at.set(instant)
    try:
        yield instant
    finally:
        _acting_at.reset(token)
