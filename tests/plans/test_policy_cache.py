"""The process cache of policy reads: used only for objects that carry a revision, one revision
at a time, bounded."""

from __future__ import annotations

import pytest

from plans import policy_cache
from plans.models import Plan


def plan(revision: int | None) -> Plan:
    row = Plan(pk=1)
    if revision is not None:
        policy_cache.record_revision(row, revision)
    return row


class Filler:
    """Counts its calls and answers with the call number."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


def test_an_object_without_a_revision_is_filled_every_time() -> None:
    fill = Filler()
    assert policy_cache.cached(plan(None), "k", fill) == 1
    assert policy_cache.cached(plan(None), "k", fill) == 2


def test_the_same_revision_is_filled_once() -> None:
    fill = Filler()
    assert policy_cache.cached(plan(5), "k", fill) == 1
    assert policy_cache.cached(plan(5), "k", fill) == 1
    assert fill.calls == 1


def test_another_revision_drops_the_entries_of_the_previous_one() -> None:
    policy_cache.cached(plan(5), "a", Filler())
    policy_cache.cached(plan(6), "b", Filler())
    fill = Filler()
    assert policy_cache.cached(plan(6), "a", fill) == 1
    assert fill.calls == 1


def test_an_older_revision_is_not_answered_from_a_newer_ones_entries() -> None:
    policy_cache.cached(plan(6), "k", Filler())
    fill = Filler()
    assert policy_cache.cached(plan(5), "k", fill) == 1
    assert fill.calls == 1


def test_the_cache_keeps_its_most_recently_used_entries_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(policy_cache, "_CACHE_SIZE", 2)
    for key in ("a", "b", "c"):
        policy_cache.cached(plan(5), key, Filler())
    fill = Filler()
    policy_cache.cached(plan(5), "a", fill)
    policy_cache.cached(plan(5), "c", fill)
    assert fill.calls == 1  # "a" was dropped, "c" kept


def test_a_failed_fill_is_not_kept() -> None:
    def fail() -> int:
        raise LookupError("no such row")

    with pytest.raises(LookupError):
        policy_cache.cached(plan(5), "k", fail)
    assert policy_cache.cached(plan(5), "k", Filler()) == 1
