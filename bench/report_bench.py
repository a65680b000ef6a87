"""How long the SLA report takes, and in how many queries, over a million clocks.

Run from the repository root against a migrated database:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench \\
        .venv/bin/python bench/report_bench.py [--clocks 1000000] [--rebuild]

It builds `--clocks` SLA clocks (three per ticket, a year of history, 200 organizations, 4 plans,
4 severities, 3 queues, 20 agents) once; later runs reuse them unless `--rebuild`. PostgreSQL
rows go in with COPY, other databases with bulk_create. Then it times `sla.reports.sla_report`
(the figures), the whole report page, the CSV and a monthly statement, and prints each one's time
and query count. Rows are marked with slugs starting `bench-`; `--rebuild` deletes only those.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import secrets
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# With DEBUG off the settings refuse the published key; a bench needs no real one (and DEBUG
# on would keep every query in memory).
os.environ.setdefault("SECRET_KEY", "bench-" + secrets.token_urlsafe(50))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
# Production settings (DEBUG off, no query log) on a scratch database; nothing is served.
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("SITE_URL", "http://127.0.0.1:8000")

import django
from django.conf import settings

# Pages render static URLs; a scratch run has no collected manifest, so plain names are used.
settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Max, Model  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from plans.models import Organization, Plan, Policy, Severity, UserProfile  # noqa: E402
from sla.models import BusinessCalendar, EscalationFiring, SlaClock, SupportHours  # noqa: E402
from tickets.models import CustomerEscalation, Queue, Ticket  # noqa: E402
from tickets.outcomes import outcomes_rebuild  # noqa: E402
from tickets.reports.sla_queries import ReportFilters, default_dates, period_for_dates, sla_report  # noqa: E402

User = get_user_model()

H = dt.timedelta(hours=1)
METRICS = [("acknowledge", 1 * H), ("first_response", 4 * H), ("resolution", 24 * H)]
CHUNK = 20_000  # tickets per COPY / bulk_create round
ZONE = "Europe/London"


# --- building ---------------------------------------------------------------------------------


def reference_rows() -> dict[str, Any]:
    policy, _ = Policy.objects.get_or_create(slug="bench-policy", defaults={"name": "Bench"})
    calendar, _ = BusinessCalendar.objects.get_or_create(
        policy=policy, slug="bench-always", defaults={"name": "24x7", "timezone": "UTC"}
    )
    plans = []
    for i, name in enumerate(["Free", "Pro", "Business", "Enterprise"]):
        plan, _ = Plan.objects.get_or_create(
            slug=f"bench-{name.lower()}", defaults={"policy": policy, "name": name, "position": i}
        )
        SupportHours.objects.get_or_create(plan=plan, defaults={"calendar": calendar})
        plans.append(plan)
    severities = [
        Severity.objects.get_or_create(
            policy=policy, level=level, defaults={"name": f"Level {level}", "definition": "-"}
        )[0]
        for level in range(1, 5)
    ]
    queues = [
        Queue.objects.get_or_create(slug=f"bench-l{n}", defaults={"name": f"L{n}", "position": n})[
            0
        ]
        for n in range(1, 4)
    ]
    agents = [
        User.objects.get_or_create(username=f"bench-agent{n}", defaults={"is_staff": True})[0]
        for n in range(20)
    ]
    orgs = [
        Organization.objects.get_or_create(
            slug=f"bench-org-{n}", defaults={"name": f"Bench customer {n:03d}", "time_zone": ZONE}
        )[0]
        for n in range(200)
    ]
    requester, _ = User.objects.get_or_create(username="bench-requester")
    return {
        "calendar": calendar,
        "plans": plans,
        "severities": severities,
        "queues": queues,
        "agents": agents,
        "orgs": orgs,
        "requester": requester,
    }


def delete_bench_rows() -> None:
    tickets = Ticket.objects.filter(organization__slug__startswith="bench-")
    SlaClock.objects.filter(ticket__in=tickets).delete()
    CustomerEscalation.objects.filter(ticket__in=tickets).delete()
    tickets.delete()


def next_id(model: type[Model]) -> int:
    return (model._default_manager.aggregate(top=Max("id"))["top"] or 0) + 1


def ticket_and_clocks(
    ticket_id: int, clock_id: int, ref: dict[str, Any], now: dt.datetime, rnd: random.Random
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One ticket of the last year and its three clocks with a plausible outcome each."""
    created = now - dt.timedelta(seconds=rnd.uniform(0, 365 * 86400))
    recent = now - created < dt.timedelta(days=14)
    still_open = recent and rnd.random() < 0.3
    plan = ref["plans"][rnd.randrange(4)]
    severity = ref["severities"][rnd.randrange(4)]
    ticket = {
        "id": ticket_id,
        "reference": f"BENCH-{ticket_id}",
        "organization_id": ref["orgs"][rnd.randrange(200)].pk,
        "requester_id": ref["requester"].pk,
        "plan_id": plan.pk,
        "severity_id": severity.pk,
        "channel": "portal",
        "subject": f"Bench ticket {ticket_id}",
        "status": "in_progress" if still_open else "resolved",
        "assignee_id": ref["agents"][rnd.randrange(20)].pk if rnd.random() < 0.9 else None,
        "queue_id": ref["queues"][rnd.randrange(3)].pk,
        "out_of_scope_reason": "",
        "severity_clarification": "",
        "created_at": created,
        "updated_at": created,
    }
    clocks = []
    for n, (metric, target) in enumerate(METRICS):
        due = created + target
        clock = {
            "id": clock_id + n,
            "ticket_id": ticket_id,
            "metric": metric,
            "cycle": 1,
            "plan_id": plan.pk,
            "severity_id": severity.pk,
            "calendar_id": ref["calendar"].pk,
            "target": target,
            "started_at": created,
            "due_at": due,
            "original_due_at": due,
            "at_risk_at": created + target * 0.75,
            "paused_business": dt.timedelta(0),
            "state": "running",
        }
        took = target * rnd.lognormvariate(-0.6, 0.6)
        if still_open and (metric == "resolution" or rnd.random() < 0.3):
            if due <= now:
                clock.update(state="breached", breached_at=due)
        elif created + took > now:
            clock.update(state="running")
        else:
            clock.update(state="met", met_at=created + took, business_elapsed=took)
            if took > target:
                clock["breached_at"] = due
        clocks.append(clock)
    return ticket, clocks


def build(clocks_wanted: int, now: dt.datetime) -> None:
    ref = reference_rows()
    tickets_wanted = -(-clocks_wanted // len(METRICS))  # rounded up: at least as many clocks
    rnd = random.Random(42)
    ticket_id, clock_id = next_id(Ticket), next_id(SlaClock)
    started = time.perf_counter()
    made = 0
    while made < tickets_wanted:
        batch = min(CHUNK, tickets_wanted - made)
        tickets, clocks = [], []
        for _ in range(batch):
            ticket, ticket_clocks = ticket_and_clocks(ticket_id, clock_id, ref, now, rnd)
            tickets.append(ticket)
            clocks.extend(ticket_clocks)
            ticket_id += 1
            clock_id += len(METRICS)
        with transaction.atomic():
            insert(Ticket, tickets)
            insert(SlaClock, clocks)
            add_escalations(clocks, tickets, ref, rnd)
        made += batch
        rate = made * len(METRICS) / (time.perf_counter() - started)
        print(f"  {made * len(METRICS):>9,} clocks written ({rate:,.0f}/s)", flush=True)
    # What the clock services would have counted for the report, recounted in the database.
    print(f"  {outcomes_rebuild():>9,} outcomes counted", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Ticket, SlaClock):
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            # As autovacuum would have by then on a live database: statistics for the planner and
            # the visibility map that lets the report read covering indexes alone.
            cursor.execute("VACUUM ANALYZE")


def insert(model: type[Model], rows: list[dict[str, Any]]) -> None:
    """COPY on PostgreSQL; bulk_create elsewhere. Missing columns take the field default."""
    fields = model._meta.concrete_fields
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create([model(**row) for row in rows], batch_size=2000)
        return
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    # get_default() is None for nullable fields and "" for blank text columns without a default.
    defaults = {f.attname: f.get_default() for f in fields}
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([row.get(f.attname, defaults[f.attname]) for f in fields])


def add_escalations(
    clocks: list[dict[str, Any]], tickets: list[dict[str, Any]], ref: dict[str, Any], rnd: Any
) -> None:
    """A firing for each breach (as the sweep would), a customer escalation on 2% of tickets."""
    EscalationFiring.objects.bulk_create(
        (
            EscalationFiring(
                clock_id=c["id"],
                rule_text="100% breach",
                due_at=c["breached_at"],
                fired_at=c["breached_at"],
                sweep=uuid.uuid4(),
            )
            for c in clocks
            if c.get("breached_at")
        ),
        batch_size=2000,
    )
    CustomerEscalation.objects.bulk_create(
        (
            CustomerEscalation(
                ticket_id=t["id"],
                organization_id=t["organization_id"],
                requested_by=ref["requester"],
                reason="Please escalate",
                requested_at=t["created_at"] + H,
                unwarranted=rnd.random() < 0.4,
            )
            for t in tickets
            if rnd.random() < 0.02
        ),
        batch_size=2000,
    )


# --- measuring --------------------------------------------------------------------------------


def measure(label: str, run: Callable[[], Any], rounds: int = 5) -> None:
    times, counts = [], set()
    for _ in range(rounds):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
        counts.add(len(captured.captured_queries))
    queries = "/".join(str(c) for c in sorted(counts))
    print(
        f"{label:<44} first {times[0] * 1000:7.0f} ms  "
        f"median {statistics.median(times) * 1000:7.0f} ms  queries {queries}"
    )


def manager_client() -> Client:
    user, _ = User.objects.get_or_create(username="bench-manager")
    UserProfile.objects.get_or_create(user=user, defaults={"time_zone": ZONE})
    user.groups.add(Group.objects.get_or_create(name="support managers")[0])
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def ok(response: Any) -> None:
    if response.status_code != 200:
        raise SystemExit(f"the report answered {response.status_code}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clocks", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    now = timezone.now()
    existing = SlaClock.objects.filter(ticket__organization__slug__startswith="bench-").count()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    if args.rebuild or existing < args.clocks:
        if existing:
            print(f"deleting {existing:,} bench clocks")
            delete_bench_rows()
        print(f"building {args.clocks:,} clocks")
        started = time.perf_counter()
        build(args.clocks, now)
        print(f"built in {time.perf_counter() - started:.0f} s")
    total = SlaClock.objects.count()
    zone = ZoneInfo(ZONE)
    start, end = period_for_dates(*default_dates(now, zone), zone)
    last30 = ReportFilters(start=start, end=end, zone=zone)
    counted = sla_report(last30, now=now).breakdown.overall.total
    print(f"clocks in the database: {total:,}; counted in the last 30 days: {counted:,}")
    year_start, year_end = period_for_dates(
        (now - dt.timedelta(days=364)).astimezone(zone).date(), now.astimezone(zone).date(), zone
    )
    year = ReportFilters(start=year_start, end=year_end, zone=zone)
    pro = Plan.objects.get(slug="bench-pro")
    org = Organization.objects.get(slug="bench-org-7")
    filtered = ReportFilters(start=start, end=end, zone=zone, plan=pro, severity=1)
    rounds = args.rounds
    measure("figures, last 30 days", lambda: sla_report(last30, now=now), rounds)
    measure("figures, last 30 days, plan + severity", lambda: sla_report(filtered, now=now), rounds)
    measure("figures, last 365 days", lambda: sla_report(year, now=now), rounds)
    client = manager_client()
    month = (now.astimezone(zone).replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    measure("page /reports/sla/ (default)", lambda: ok(client.get("/reports/sla/")), rounds)
    measure(
        "CSV /reports/sla/export.csv", lambda: ok(client.get("/reports/sla/export.csv")), rounds
    )
    measure(
        f"statement {org.slug} {month}",
        lambda: ok(client.get(f"/reports/sla/statement/{org.slug}/{month}/")),
        rounds,
    )


if __name__ == "__main__":
    main()
