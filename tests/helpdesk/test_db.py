"""`bulk_set`: one UPDATE ... FROM (VALUES ...) instead of Django's CASE per row; `bulk_insert`:
one INSERT from one JSON parameter instead of an array per column."""

import datetime as dt
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk.db import bulk_insert, bulk_set, insert_rows, next_id
from sla.models import EscalationFiring, SlaClock, SlaClockEvent
from tests.factories import EscalationRuleFactory, SlaClockFactory
from tickets.models import OutgoingNotification, Ticket

pytestmark = pytest.mark.django_db


def test_it_saves_each_row_its_own_values_including_nulls() -> None:
    first, second = SlaClockFactory.create(), SlaClockFactory.create()
    when = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
    first.state, first.breached_at, first.next_action_at = "breached", when, None
    second.state, second.breached_at, second.next_action_at = "running", None, when
    bulk_set([first, second], ["state", "breached_at", "next_action_at"])
    assert list(
        SlaClock.objects.order_by("pk").values_list("state", "breached_at", "next_action_at")
    ) == [("breached", when, None), ("running", None, when)]


def test_it_saves_json_values() -> None:
    clock = SlaClockFactory.create()
    firing = EscalationFiring.objects.create(
        clock=clock,
        rule_text="r",
        due_at=clock.started_at,
        fired_at=clock.started_at,
        sweep="00000000-0000-0000-0000-000000000001",
    )
    firing.notified = ["a@example.com", "b@example.com"]
    bulk_set([firing], ["notified", "moved_to"])
    firing.refresh_from_db()
    assert firing.notified == ["a@example.com", "b@example.com"]


def test_it_runs_one_statement_for_rows_within_the_parameter_limit() -> None:
    clocks = SlaClockFactory.create_batch(50)
    for clock in clocks:
        clock.state = "paused"
    with CaptureQueriesContext(connection) as queries:
        bulk_set(clocks, ["state"])
    assert len(queries) == 1
    assert set(SlaClock.objects.values_list("state", flat=True)) == {"paused"}


def test_it_batches_past_the_parameter_limit(settings: Any) -> None:
    clocks = SlaClockFactory.create_batch(3)
    for clock in clocks:
        clock.state = "met"
        clock.met_at = clock.started_at
    limit = connection.features.max_query_params
    try:
        connection.features.max_query_params = 4  # two rows of (pk, state) per statement
        with CaptureQueriesContext(connection) as queries:
            bulk_set(clocks, ["state", "met_at"])
    finally:
        connection.features.max_query_params = limit
    assert len(queries) == 3
    assert set(SlaClock.objects.values_list("state", flat=True)) == {"met"}


def test_it_saves_named_values_given_the_model() -> None:
    clock = SlaClockFactory.create()
    bulk_set([SimpleNamespace(id=clock.pk, state="paused")], ["state"], model=SlaClock)
    clock.refresh_from_db()
    assert clock.state == "paused"


def test_nothing_to_save_sends_nothing() -> None:
    with CaptureQueriesContext(connection) as queries:
        assert bulk_set([], ["state"]) == 0
    assert len(queries) == 0


def test_bulk_insert_writes_every_value_and_gives_each_row_its_id() -> None:
    clock = SlaClockFactory.create()
    when = dt.datetime(2026, 11, 23, 9, 30, 15, 123456, tzinfo=dt.UTC)
    events = [
        SlaClockEvent(clock=clock, kind="breached", at=when, due_at=None, data={"late": True}),
        SlaClockEvent(clock=clock, kind="met", at=when, due_at=when, reason="né", data={}),
    ]
    with CaptureQueriesContext(connection) as queries:
        assert bulk_insert(events) == 2
    assert len(queries) == 1
    assert [event.pk for event in events] == list(
        SlaClockEvent.objects.filter(clock=clock).order_by("pk").values_list("pk", flat=True)
    )
    assert list(
        SlaClockEvent.objects.filter(clock=clock)
        .order_by("pk")
        .values_list("kind", "at", "due_at", "reason", "data")
    ) == [("breached", when, None, "", {"late": True}), ("met", when, when, "né", {})]


def test_bulk_insert_skips_conflicting_rows_when_asked() -> None:
    clock, rule = SlaClockFactory.create(), EscalationRuleFactory.create()
    token = "00000000-0000-0000-0000-000000000002"
    at = clock.started_at
    first = EscalationFiring(
        clock=clock, rule=rule, rule_text="r", due_at=at, fired_at=at, sweep=token
    )
    bulk_insert([first])
    again = EscalationFiring(
        clock=clock, rule=rule, rule_text="again", due_at=at, fired_at=at, sweep=uuid.uuid4()
    )
    bulk_insert([again], ignore_conflicts=True)
    assert list(EscalationFiring.objects.values_list("rule_text", "sweep")) == [
        ("r", uuid.UUID(token))
    ]


def test_insert_rows_fills_in_the_defaults_and_returns_the_ids_in_order() -> None:
    when = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
    common = {"cause": "firing", "template": "t", "created_at": when, "send_after": when}
    rows = [
        {**common, "cause_id": n, "recipient": f"r{n}@example.com", "next_attempt_at": when}
        for n in range(3)
    ]
    ids = insert_rows(OutgoingNotification, rows)
    stored = OutgoingNotification.objects.in_bulk(ids)
    assert [stored[pk].cause_id for pk in ids] == [0, 1, 2]
    assert [(row.status, row.attempts, row.last_error, row.data) for row in stored.values()] == [
        ("pending", 0, "", {})
    ] * 3


def test_insert_rows_refuses_a_name_that_is_not_a_field() -> None:
    with pytest.raises(ValueError, match="ticket"):
        insert_rows(OutgoingNotification, [{"ticket": None}])


@pytest.mark.postgres
def test_next_id_takes_each_key_of_the_sequence_once() -> None:
    taken = next_id(Ticket)
    assert taken is not None
    assert next_id(Ticket) == taken + 1  # taken is never given again


def test_next_id_is_none_where_rows_are_numbered_only_as_they_are_inserted() -> None:
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL hands out keys before the insert")
    assert next_id(Ticket) is None
