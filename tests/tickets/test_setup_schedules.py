"""`manage.py setup_schedules`: the sweep and the notification re-drive every minute, the
roll-ups' fold every five, once."""

from io import StringIO

import pytest
from django.core.management import call_command
from django_q.models import Schedule

pytestmark = pytest.mark.django_db


def test_it_creates_the_sweep_and_the_redrive_every_minute_and_is_idempotent() -> None:
    call_command("setup_schedules", stdout=StringIO())
    out = StringIO()
    call_command("setup_schedules", stdout=out)
    rows = {s.name: (s.func, s.schedule_type, s.minutes) for s in Schedule.objects.all()}
    assert rows == {
        "sla-sweep": ("sla.tasks.sweep_task", Schedule.MINUTES, 1),
        "notifications-redrive": ("tickets.notifications.redrive_task", Schedule.MINUTES, 1),
        "inbound-mail": ("tickets.inbound.tasks.poll_mailboxes", Schedule.MINUTES, 1),
        "sla-outcomes-compact": ("tickets.outcomes.compact_task", Schedule.MINUTES, 5),
    }
    assert "notifications-redrive: up to date" in out.getvalue()
