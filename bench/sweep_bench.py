"""Time and count the queries of one escalation sweep over many open tickets, 1% of them due.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench_sweep \
        .venv/bin/python bench/sweep_bench.py [--open 100000] [--due-share 0.01]

Without BENCH_DATABASE_URL it uses a scratch SQLite file. The database is migrated and its
tickets and clocks are replaced: never point it at data you want to keep. It runs the sweep with
all tickets open, then again with a tenth of them, to show that the work follows what is due and
not how many tickets are open.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", f"sqlite:///{tempfile.gettempdir()}/helpdesk_sweep_bench.sqlite3"
)
# With DEBUG off the settings refuse the published key; a bench needs no real one (and DEBUG
# on would keep every query in memory).
os.environ.setdefault("SECRET_KEY", "bench-" + secrets.token_urlsafe(50))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
# Production settings (DEBUG off, no query log) on a scratch database; nothing is served.
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
os.environ.setdefault("SITE_URL", "http://127.0.0.1:8000")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from plans.models import Organization, Plan, Policy, Severity  # noqa: E402
from sla.models import (  # noqa: E402
    BusinessCalendar,
    EscalationFiring,
    EscalationRule,
    SlaClock,
    SupportHours,
    Target,
)
from sla.services import sweep  # noqa: E402
from tickets.models import Ticket, TicketEvent  # noqa: E402

BATCH = 5000


def build(open_count: int, due_share: float, now: dt.datetime) -> int:
    """`open_count` open tickets, each with three clocks; `due_share` of them due now."""
    TicketEvent.objects.all().delete()
    EscalationFiring.objects.all().delete()
    SlaClock.objects.all().delete()
    Ticket.objects.all().delete()
    policy, _ = Policy.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    calendar, _ = BusinessCalendar.objects.get_or_create(
        policy=policy,
        slug="always",
        defaults={"name": "24x7", "timezone": "UTC", "always_open": True},
    )
    severity, _ = Severity.objects.get_or_create(
        policy=policy, level=1, defaults={"name": "Critical", "definition": "Down"}
    )
    plan, _ = Plan.objects.get_or_create(slug="bench", defaults={"policy": policy, "name": "B"})
    SupportHours.objects.get_or_create(plan=plan, defaults={"calendar": calendar})
    Target.objects.get_or_create(
        plan=plan,
        severity=severity,
        category=None,
        defaults={
            "calendar": calendar,
            "first_response": dt.timedelta(hours=4),
            "resolution": dt.timedelta(hours=24),
        },
    )
    EscalationRule.objects.get_or_create(
        plan=plan,
        severity=severity,
        metric="resolution",
        defaults={"after": dt.timedelta(hours=2), "notify": ["support_managers", "assignee"]},
    )
    managers, _ = Group.objects.get_or_create(name="support managers")
    boss, _ = User.objects.get_or_create(
        username="bench-boss", defaults={"email": "boss@bench.example"}
    )
    managers.user_set.add(boss)
    organization, _ = Organization.objects.get_or_create(slug="bench", defaults={"name": "B"})
    rule_due = int(open_count * due_share)
    made = 0
    while made < open_count:
        size = min(BATCH, open_count - made)
        tickets = [
            Ticket(
                organization=organization,
                requester=boss,
                plan=plan,
                severity=severity,
                subject=f"Bench {made + i}",
                reference=f"HD-B{made + i:07d}",
                created_at=now,
                updated_at=now,
            )
            for i in range(size)
        ]
        with transaction.atomic():
            Ticket.objects.bulk_create(tickets)
            clocks = []
            for i, ticket in enumerate(tickets):
                # Due tickets started 3 hours ago, so the 2-hour rule is due; the others
                # started just now, so nothing of theirs is due for two hours.
                start = now - dt.timedelta(hours=3) if made + i < rule_due else now

                def clock(
                    metric: str,
                    hours: int | None,
                    next_in: int | None,
                    ticket: Ticket = ticket,
                    start: dt.datetime = start,
                ) -> SlaClock:
                    target = dt.timedelta(hours=hours) if hours else None
                    due = start + target if target else None
                    return SlaClock(
                        ticket=ticket,
                        metric=metric,
                        plan=plan,
                        severity=severity,
                        calendar=calendar,
                        target=target,
                        started_at=start,
                        due_at=due,
                        original_due_at=due,
                        next_action_at=start + dt.timedelta(hours=next_in) if next_in else None,
                    )

                clocks += [
                    clock("resolution", 24, 2),
                    clock("first_response", 4, 4),
                    clock("acknowledge", None, None),
                ]
            SlaClock.objects.bulk_create(clocks, batch_size=BATCH)
        made += size
    return rule_due


def measure(label: str, now: dt.datetime) -> None:
    open_tickets = Ticket.objects.count()
    due = SlaClock.objects.filter(next_action_at__lte=now).count()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = sweep(now=now)
        elapsed = time.perf_counter() - started
    print(
        f"{label}: {open_tickets:>7,} open tickets, {due:>5,} due clocks -> "
        f"{elapsed * 1000:7.1f} ms, {len(queries)} queries, fired {result.fired}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--open", type=int, default=100_000, dest="open_count")
    parser.add_argument("--due-share", type=float, default=0.01)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    now = timezone.now()
    for count in (args.open_count, args.open_count // 10):
        started = time.perf_counter()
        due = build(count, args.due_share if count == args.open_count else args.due_share * 10, now)
        print(
            f"built {count:,} tickets ({count * 3:,} clocks, {due:,} due) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        measure("sweep", now)
        measure("again", now)


if __name__ == "__main__":
    main()
