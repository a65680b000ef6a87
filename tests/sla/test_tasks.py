"""The scheduled sweep task: drains what is due in batches, records its run, counts it, and
the escalation mails it causes measure their lag from the due instant."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from helpdesk import metrics
from sla import tasks
from sla.models import EscalationFiring, SweepRun
from tests.factories import EscalationRuleFactory, SlaClockFactory, TicketFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def due_clocks(count: int) -> None:
    """`count` tickets whose acknowledge rule (email someone after 10 minutes) is due at NOW."""
    ticket = TicketFactory.create(created_at=NOW - dt.timedelta(minutes=10))
    EscalationRuleFactory.create(
        plan=ticket.plan,
        severity=ticket.severity,
        metric="acknowledge",
        after=dt.timedelta(minutes=10),
        notify=["email:oncall@example.com"],
    )
    SlaClockFactory.create(ticket=ticket, metric="acknowledge", target=None, next_action_at=NOW)
    for _ in range(count - 1):
        other = TicketFactory.create(
            plan=ticket.plan, severity=ticket.severity, created_at=NOW - dt.timedelta(minutes=10)
        )
        SlaClockFactory.create(ticket=other, metric="acknowledge", target=None, next_action_at=NOW)


def test_it_drains_every_due_batch_in_one_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks, "SWEEP_BATCH", 2)
    due_clocks(5)
    with time_machine.travel(NOW + dt.timedelta(seconds=20), tick=False):
        result = tasks.sweep_task()
    assert result["clocks"] == 5
    assert result["fired"] == 5
    assert EscalationFiring.objects.count() == 5


def test_it_records_its_run_for_readiness_and_the_metrics() -> None:
    due_clocks(1)
    fired = metrics.ESCALATIONS_FIRED.labels(late="false")._value.get()
    clocks = metrics.SWEEP_CLOCKS._value.get()
    with time_machine.travel(NOW + dt.timedelta(seconds=20), tick=False):
        tasks.sweep_task()
    run = SweepRun.objects.get(name=tasks.SWEEP_JOB)
    assert run.finished_at == NOW + dt.timedelta(seconds=20)
    assert (run.clocks, run.fired) == (1, 1)
    assert metrics.ESCALATIONS_FIRED.labels(late="false")._value.get() == fired + 1
    assert metrics.SWEEP_CLOCKS._value.get() == clocks + 1


def test_the_escalation_mail_measures_its_lag_from_the_due_instant(
    mailoutbox: list, django_capture_on_commit_callbacks: object
) -> None:
    due_clocks(1)
    lag_sum = metrics.ESCALATION_LAG._sum.get()
    sent = metrics.MAILS_SENT.labels(template="sla_escalation")._value.get()
    with time_machine.travel(NOW + dt.timedelta(seconds=42), tick=False):
        with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
            tasks.sweep_task()
        assert timezone.now() == NOW + dt.timedelta(seconds=42)
    assert len(mailoutbox) == 1
    assert metrics.MAILS_SENT.labels(template="sla_escalation")._value.get() == sent + 1
    assert metrics.ESCALATION_LAG._sum.get() - lag_sum == pytest.approx(42)
