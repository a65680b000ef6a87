"""Who must hear when a plan's priority or a severity's level changes.

The agents' queue ranks equally urgent tickets by their plan's priority, then their severity's
level, and the tickets app stores that rank on each ticket so the queue reads it from an index.
It registers its refresh here at start-up (`plans` knows nothing of tickets); whatever changes
a priority or a level (the policy loader, the admin) calls `priorities_changed` in the same
transaction as the change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

# Told the plans whose priority and the severities whose level changed.
PrioritiesChangedHandler = Callable[[set[int], set[int]], None]
_handler: PrioritiesChangedHandler | None = None


def register_priorities_changed_handler(handler: PrioritiesChangedHandler) -> None:
    global _handler
    _handler = handler


def priorities_changed(*, plan_ids: Iterable[int] = (), severity_ids: Iterable[int] = ()) -> None:
    plans, severities = set(plan_ids), set(severity_ids)
    if (plans or severities) and _handler is not None:
        _handler(plans, severities)
