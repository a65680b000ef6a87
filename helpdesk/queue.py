"""Handing tasks to django-q2 through one broker per process.

`django_q.tasks.async_task` builds a new broker for every task it is not given one, and the
Redis broker's new client opens a new connection (and reads the redis package's version from
its metadata) each time: a few milliseconds per task. The broker here is built once per process
(a forked process reconnects: redis-py's pool notices the new pid) and shared by every caller.
"""

from __future__ import annotations

import threading
from typing import Any

from django_q.brokers import Broker, get_broker
from django_q.tasks import async_task

_broker: Broker | None = None
_lock = threading.Lock()


def broker() -> Broker:
    """The task broker, connected once per process."""
    global _broker
    if _broker is None:
        with _lock:
            if _broker is None:
                _broker = get_broker()
    return _broker


def enqueue(func: str, *args: Any, **kwargs: Any) -> str:
    """`async_task` on the shared broker; returns the task id."""
    return str(async_task(func, *args, broker=broker(), **kwargs))
