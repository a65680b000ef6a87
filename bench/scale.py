"""The product at scale: the agents' queue, the portal and the reports over a million tickets.

Run from the repository root against a migrated PostgreSQL database:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_scale \\
        .venv/bin/python bench/scale.py [--tickets 1000000] [--open-share 0.3] [--rebuild]

It builds `--tickets` tickets (30% open by default) with three clocks each over a year, with COPY,
once; later runs reuse them unless `--rebuild`. Open tickets get a mix of standings (breached, at
risk, on track, paused) and their stored SLA summary, as the clock services would write it. Then
it prints, for each page, the p50 and p95 over `--rounds` runs and its query count, and at the end
the process's peak memory. Rows are marked with slugs starting `bench-`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import statistics
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import report_bench as base  # also sets Django up
import scale_report
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from plans.models import Contract, NamedContact, Organization
from sla.models import SlaClock
from sla.standing import ticket_sla
from tickets.models import Ticket
from tickets.outcomes import outcomes_rebuild
from tickets.queue_order import queue_rank

H = dt.timedelta(hours=1)
RESOLUTION_TARGETS = [8 * H, 72 * H, 720 * H, 2160 * H]
User = get_user_model()


def open_clocks(
    ticket_id: int,
    clock_id: int,
    created: dt.datetime,
    ref: dict[str, Any],
    now: dt.datetime,
    rnd: random.Random,
    plan_id: int,
    severity_id: int,
) -> list[dict[str, Any]]:
    """Acknowledged and answered; resolution running, paused or breached."""
    clocks = []
    for n, (metric, target) in enumerate(
        [
            ("acknowledge", H),
            ("first_response", 4 * H),
            ("resolution", rnd.choice(RESOLUTION_TARGETS)),
        ]
    ):
        due = created + target
        clock = {
            "id": clock_id + n,
            "ticket_id": ticket_id,
            "metric": metric,
            "cycle": 1,
            "plan_id": plan_id,
            "severity_id": severity_id,
            "calendar_id": ref["calendar"].pk,
            "target": target,
            "started_at": created,
            "due_at": due,
            "original_due_at": due,
            "at_risk_at": created + target * 0.75,
            "paused_business": dt.timedelta(0),
            "state": "running",
        }
        if metric != "resolution":
            met = min(created + target * rnd.uniform(0.2, 1.2), now)
            clock.update(state="met", met_at=met, business_elapsed=met - created)
            if met > due:
                clock["breached_at"] = due
        elif rnd.random() < 0.1:
            clock.update(state="paused", paused_at=min(created + target / 2, now))
        elif due <= now:
            clock.update(state="breached", breached_at=due)
        clocks.append(clock)
    return clocks


def build(tickets_wanted: int, open_share: float, now: dt.datetime) -> None:
    ref = base.reference_rows()
    # The queue rank the ticket services store (`tickets.queue_order.queue_rank`).
    ranks = {
        (plan.pk, severity.pk): queue_rank(plan.priority, severity.level)
        for plan in ref["plans"]
        for severity in ref["severities"]
    }
    rnd = random.Random(7)
    ticket_id, clock_id = base.next_id(Ticket), base.next_id(SlaClock)
    made, started = 0, time.perf_counter()
    while made < tickets_wanted:
        tickets, clocks = [], []
        for _ in range(min(base.CHUNK, tickets_wanted - made)):
            if rnd.random() < open_share:
                plan = ref["plans"][rnd.randrange(4)]
                severity = ref["severities"][rnd.randrange(4)]
                created = now - dt.timedelta(seconds=rnd.uniform(0, 120 * 86400))
                own = open_clocks(ticket_id, clock_id, created, ref, now, rnd, plan.pk, severity.pk)
                summary = ticket_sla([SimpleNamespace(**{**EMPTY, **c}) for c in own])
                ticket = {
                    "id": ticket_id,
                    "reference": f"BENCH-{ticket_id}",
                    "organization_id": ref["orgs"][rnd.randrange(200)].pk,
                    "requester_id": ref["requester"].pk,
                    "plan_id": plan.pk,
                    "severity_id": severity.pk,
                    "channel": "portal",
                    "subject": f"Bench ticket {ticket_id}",
                    "status": "waiting" if summary.paused else "in_progress",
                    "assignee_id": ref["agents"][rnd.randrange(20)].pk,
                    "queue_id": ref["queues"][rnd.randrange(3)].pk,
                    "out_of_scope_reason": "",
                    "severity_clarification": "",
                    "created_at": created,
                    "updated_at": created,
                    "sla_breach_at": summary.breach_at,
                    "sla_risk_at": summary.risk_at,
                    "sla_due_at": summary.due_at,
                    "sla_paused": summary.paused,
                    "queue_rank": ranks[plan.pk, severity.pk],
                }
            else:
                ticket, own = base.ticket_and_clocks(ticket_id, clock_id, ref, now, rnd)
                ticket["status"] = "resolved"
                ticket["queue_rank"] = ranks[ticket["plan_id"], ticket["severity_id"]]
                for clock in own:
                    if clock["state"] != "met":
                        clock.update(state="met", met_at=now, business_elapsed=clock["target"])
            tickets.append(ticket)
            clocks.extend(own)
            ticket_id += 1
            clock_id += 3
        with transaction.atomic():
            base.insert(Ticket, tickets)
            base.insert(SlaClock, clocks)
        made += len(tickets)
        print(f"  {made:>9,} tickets ({made / (time.perf_counter() - started):,.0f}/s)", flush=True)
    # What the clock services would have counted for the report, recounted in the database.
    print(f"  {outcomes_rebuild():>9,} outcomes counted", flush=True)
    with connection.cursor() as cursor:
        for table in (Ticket._meta.db_table, SlaClock._meta.db_table):
            top = f"(SELECT max(id) FROM {table})"
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {top})")
        cursor.execute("VACUUM ANALYZE")


EMPTY = {"paused_at": None, "met_at": None, "breached_at": None}


def measure(label: str, run: Callable[[], Any], rounds: int) -> None:
    """p50 and p95 of the whole request and its queries; then, as the machine is often shared,
    the parts: the p50 of the time spent waiting for the queries, and of the CPU time this
    process spent (Django's own work, which waiting for a busy CPU does not inflate)."""
    times, sql_times, cpu_times, counts = [], [], [], set()
    run()  # warm: templates, the calendar cache, PostgreSQL's buffers
    for _ in range(rounds):
        with CaptureQueriesContext(connection) as captured:
            started, cpu = time.perf_counter(), time.process_time()
            run()
            times.append((time.perf_counter() - started) * 1000)
            cpu_times.append((time.process_time() - cpu) * 1000)
        counts.add(len(captured.captured_queries))
        sql_times.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    queries = "/".join(str(c) for c in sorted(counts))
    print(
        f"{label:<42} p50 {statistics.median(times):6.1f} ms  p95 {p95:6.1f} ms  "
        f"queries {queries:<3} (sql {statistics.median(sql_times):5.1f} ms, "
        f"cpu {statistics.median(cpu_times):5.1f} ms)",
        flush=True,
    )


def get(client: Client, url: str) -> Callable[[], None]:
    def run() -> None:
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")

    return run


def agent_client() -> tuple[Client, Any]:
    agent = User.objects.filter(username="bench-agent0").first() or User.objects.create(
        username="bench-agent0", is_staff=True
    )
    agent.is_superuser = True
    agent.save(update_fields=["is_superuser"])
    client = Client(HTTP_HOST="localhost")
    client.force_login(agent)
    return client, agent


def customer_client() -> Client:
    org = Organization.objects.get(slug="bench-org-7")
    user, _ = User.objects.get_or_create(username="bench-customer")
    NamedContact.objects.get_or_create(organization=org, user=user)
    if not Contract.objects.filter(organization=org).exists():
        Contract.objects.create(
            organization=org, plan=base.reference_rows()["plans"][1], starts_on=dt.date(2026, 1, 1)
        )
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def measure_queue(rounds: int) -> None:
    """The agents' queue: its first page, each filter's, and a later page."""
    client, _ = agent_client()
    queue = "/admin/tickets/ticket/"
    measure("queue, first page (open, by urgency)", get(client, queue), rounds)
    for name in ("breached", "at_risk", "on_track", "paused"):
        measure(f"queue, SLA filter {name}", get(client, f"{queue}?sla={name}"), rounds)
    measure("queue, assigned to me", get(client, f"{queue}?assigned=mine"), rounds)
    first_queue = base.reference_rows()["queues"][0]
    measure("queue, one queue", get(client, f"{queue}?queue__id__exact={first_queue.pk}"), rounds)
    measure("queue, page 20 (open, by urgency)", get(client, f"{queue}?p=20"), rounds)


def measure_portal(rounds: int) -> None:
    """A customer's pages: the dashboard's tabs (the ticket list) and one ticket."""
    customer = customer_client()
    measure("portal dashboard (one organization)", get(customer, "/"), rounds)
    measure("portal ticket list, resolved and closed", get(customer, "/?status=closed"), rounds)
    measure("portal ticket list, all, page 10", get(customer, "/?status=all&page=10"), rounds)
    org = Organization.objects.get(slug="bench-org-7")
    reference = (
        Ticket.objects.filter(organization=org)
        .order_by("-id")
        .values_list("reference", flat=True)[0]
    )
    measure("portal ticket page", get(customer, f"/tickets/{reference}/"), rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--open-share", type=float, default=0.3)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--parts",
        default="queue,portal,report,sweep",
        help="comma-separated figures to print: queue, portal, report, sweep (and recalculation)",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("bench/scale.py measures PostgreSQL: set DATABASE_URL")
    parts = {part.strip() for part in args.parts.split(",")}
    now = timezone.now()
    existing = Ticket.objects.filter(organization__slug__startswith="bench-").count()
    print(f"database: {connection.settings_dict['NAME']}, bench tickets: {existing:,}")
    if args.rebuild or existing < args.tickets:
        if existing:
            base.delete_bench_rows()
        started = time.perf_counter()
        build(args.tickets, args.open_share, now)
        print(f"built {args.tickets:,} tickets in {time.perf_counter() - started:.0f} s")
    open_count = Ticket.objects.exclude(status__in=["resolved", "closed"]).count()
    print(f"tickets: {Ticket.objects.count():,}, open: {open_count:,}")
    if "queue" in parts:
        measure_queue(args.rounds)
    if "portal" in parts:
        measure_portal(args.rounds)
    if "report" in parts:
        scale_report.report_periods(args.rounds, now)
    if "sweep" in parts:
        import scale_sweep  # noqa: PLC0415  # needs Django set up, which report_bench does

        scale_sweep.measure_sweep()
        scale_sweep.measure_recalculation()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
