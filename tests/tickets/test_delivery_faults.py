"""Exactly-once delivery with real workers dying: two `manage.py qcluster` processes on
PostgreSQL, 200 escalations falling due, one worker SIGKILLed right after the sweep's commit
(before it enqueued most of the send tasks) and another mid-send (a row claimed, not yet handed
to the mail backend). Run once on the ORM broker (which hands a dead worker's task out again)
and once on Redis (which drops it). Every mail arrives exactly once.

The processes run `tests.fault.settings`: the product's settings with a mail backend that writes
each message to its own file, and the `tests.fault` app that makes a worker kill itself at those
two points. The re-drive schedule runs every minute; once both faults happened the test moves its
next run to now instead of waiting out the minute (django-q2's scheduler wakes every 30 s).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from email import message_from_bytes
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule

from sla.models import EscalationFiring
from sla.services import clocks_new, clocks_save
from tests.factories import (
    EscalationRuleFactory,
    PlanFactory,
    SeverityFactory,
    TargetFactory,
    TicketFactory,
    customer_on,
)
from tickets.models import DeliveryStatus, OutgoingNotification

ROOT = Path(settings.BASE_DIR)
TICKETS = 100  # two rules each: 200 escalations, one recipient each
DEADLINE = 150  # seconds for one run, from the clusters' start to the last mail

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def brokers() -> list[object]:
    redis_url = os.environ.get("REDIS_URL", "")
    need = pytest.mark.skipif(
        not redis_url and not os.environ.get("CI"), reason="needs REDIS_URL (runs in CI)"
    )
    return ["orm", pytest.param("redis", marks=need)]


@pytest.fixture
def due_escalations() -> int:
    """Tickets opened an hour ago whose two rules (1 and 2 minutes) are both due now."""
    plan = PlanFactory.create(slug="faults")
    severity = SeverityFactory.create(policy=plan.policy, level=1)
    TargetFactory.create(plan=plan, severity=severity)
    for minutes, address in ((1, "first@vendor.example"), (2, "second@vendor.example")):
        EscalationRuleFactory.create(
            plan=plan,
            severity=severity,
            metric="resolution",
            after=dt.timedelta(minutes=minutes),
            after_percent=None,
            notify=[f"email:{address}"],
        )
    contact = customer_on("faults", time_zone="UTC")
    opened = timezone.now() - dt.timedelta(hours=1)
    for _ in range(TICKETS):
        ticket = TicketFactory.create(
            organization=contact.organization,
            requester=contact.user,
            plan=plan,
            severity=severity,
            created_at=opened,
        )
        clocks_save(ticket=ticket, clocks=clocks_new(ticket=ticket, at=opened), at=opened)
    return TICKETS * 2


def cluster_env(broker: str, tmp_path: Path) -> dict[str, str]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.fault.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "Q_CLUSTER_NAME": f"faults-{uuid.uuid4().hex[:8]}",
        "Q_WORKERS": "2",
        "MAIL_RECORD_DIR": str(tmp_path / "mail"),
        "FAULT_DIR": str(tmp_path / "faults"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        if broker == "redis"
        else "",
    }
    (tmp_path / "mail").mkdir()
    (tmp_path / "faults").mkdir()
    return env


def start_cluster(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so nothing outlives the test
        )


def stop_cluster(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # the main process only: it stops its workers
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def unsent() -> int:
    return OutgoingNotification.objects.exclude(status=DeliveryStatus.SENT).count()


def redrive_now() -> None:
    Schedule.objects.filter(name="notifications-redrive").update(next_run=timezone.now())


SEND_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def recorded_message_ids(folder: Path) -> Counter[str]:
    return Counter(
        str(message_from_bytes(path.read_bytes())["Message-ID"]) for path in folder.glob("*.eml")
    )


@pytest.mark.parametrize("broker", brokers())
def test_every_escalation_mail_arrives_exactly_once_when_workers_die(
    broker: str, due_escalations: int, tmp_path: Path
) -> None:
    call_command("setup_schedules", stdout=StringIO())
    env = cluster_env(broker, tmp_path)
    faults = tmp_path / "faults"
    clusters = [start_cluster(env, tmp_path / f"cluster-{n}.log") for n in range(2)]
    began = time.monotonic()
    redriven_after: set[str] = set()
    try:
        while time.monotonic() - began < DEADLINE:
            time.sleep(1)
            happened = {path.name for path in faults.iterdir()}
            if happened - redriven_after:
                # A minute of the re-drive schedule, passed at once.
                redrive_now()
                redriven_after |= happened
            if len(happened) == 2 and EscalationFiring.objects.exists() and unsent() == 0:
                break
        elapsed = time.monotonic() - began
    finally:
        for process in clusters:
            stop_cluster(process)

    logs = "\n".join(p.read_text(errors="replace")[-3000:] for p in tmp_path.glob("*.log"))
    rows = OutgoingNotification.objects.filter(cause=OutgoingNotification.Cause.FIRING)
    expected = Counter(str(send_id) for send_id in rows.values_list("send_id", flat=True))
    recorded = recorded_message_ids(tmp_path / "mail")
    # A ticket mail's Message-ID threads it (`<HD-000123.<send id>@domain>`): find the send id.
    by_send_id = Counter(
        found.group(0)
        for message_id in recorded.elements()
        if (
            found := re.search(
                r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", message_id
            )
        )
    )
    lost = sum(1 for key in expected if key not in by_send_id)
    duplicates = sum(count - 1 for count in by_send_id.values() if count > 1)
    statuses = Counter(rows.values_list("status", flat=True))
    print(
        f"\n{broker}: {EscalationFiring.objects.count()} firings, {rows.count()} rows "
        f"{dict(statuses)}, {sum(recorded.values())} mails recorded, {lost} lost, "
        f"{duplicates} duplicates, faults {sorted(p.name for p in faults.iterdir())}, "
        f"resent after a stale claim {rows.filter(attempts__gt=1).count()}, {elapsed:.0f} s"
    )
    assert sorted(p.name for p in faults.iterdir()) == ["after-sweep-commit", "mid-send"], logs
    assert EscalationFiring.objects.count() == due_escalations
    assert rows.count() == due_escalations
    assert statuses == {DeliveryStatus.SENT: due_escalations}, logs
    assert (lost, duplicates) == (0, 0)
    assert sum(recorded.values()) == due_escalations
