"""Escalation lag: N clocks fall due within one minute; two qcluster processes on PostgreSQL and
Redis sweep them; how long from each due instant until its mail is handed to the mail server?

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench_lag \
    REDIS_URL=redis://127.0.0.1:6379/14 \
        .venv/bin/python bench/lag_bench.py [--clocks 10000] [--clusters 2] [--workers 2]

The database is migrated and its tickets, clocks and tasks are replaced: never point it at data
you want to keep. Each clock has one escalation rule (email an on-call address) whose instant
falls in the window [start + lead, start + lead + 60 s]; the `sla-sweep` schedule runs as in
production (every minute; django-q2's scheduler wakes about every 30 s). The workers send over
SMTP to a sink in this process (aiosmtpd, a dev dependency), which notes when each message
arrives: the hand-over. Prints p50, p99 and max lag, duplicates (a ticket mailed twice), missing
mails, where the time went (due -> recorded by the sweep -> claimed by a sender -> handed over)
and the machine's load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if not os.environ.get("BENCH_DATABASE_URL", "").startswith("postgres"):
    sys.exit("set BENCH_DATABASE_URL to a scratch PostgreSQL database")
if not os.environ.get("REDIS_URL"):
    sys.exit("set REDIS_URL (the workers' broker)")
os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
os.environ["DJANGO_SETTINGS_MODULE"] = "helpdesk.settings"
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
os.environ.setdefault("SITE_URL", "http://127.0.0.1:8000")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["Q_CLUSTER_NAME"] = f"lag-bench-{uuid.uuid4().hex[:8]}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


SMTP_PORT = free_port()
os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{SMTP_PORT}"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_q.models import OrmQ, Schedule, Task  # noqa: E402

from plans.models import Organization, Plan, Policy, Severity  # noqa: E402
from sla.models import (  # noqa: E402
    BusinessCalendar,
    EscalationFiring,
    EscalationRule,
    SlaClock,
    SupportHours,
    SweepRun,
)
from tickets.models import OutgoingNotification, Ticket, TicketEvent  # noqa: E402

RULE_AFTER = dt.timedelta(minutes=10)
BATCH = 5000


def build(count: int, window_start: dt.datetime) -> dict[str, dt.datetime]:
    """`count` tickets with one acknowledge clock each, their rule's instants spread evenly over
    the minute from `window_start`. Returns each ticket reference's due instant."""
    TicketEvent.objects.all().delete()
    OutgoingNotification.objects.all().delete()
    EscalationFiring.objects.all().delete()
    SlaClock.objects.all().delete()
    Ticket.objects.all().delete()
    Task.objects.all().delete()
    OrmQ.objects.all().delete()
    SweepRun.objects.all().delete()
    policy, _ = Policy.objects.get_or_create(slug="lag-bench", defaults={"name": "Lag bench"})
    calendar, _ = BusinessCalendar.objects.get_or_create(
        policy=policy,
        slug="always",
        defaults={"name": "24x7", "timezone": "UTC", "always_open": True},
    )
    severity, _ = Severity.objects.get_or_create(
        policy=policy, level=1, defaults={"name": "Critical", "definition": "Down"}
    )
    plan, _ = Plan.objects.get_or_create(
        slug="lag-bench", defaults={"policy": policy, "name": "Lag bench"}
    )
    SupportHours.objects.get_or_create(plan=plan, defaults={"calendar": calendar})
    EscalationRule.objects.filter(plan=plan).delete()
    EscalationRule.objects.create(
        plan=plan,
        severity=severity,
        metric="acknowledge",
        after=RULE_AFTER,
        notify=["email:oncall@bench.example"],
    )
    requester, _ = User.objects.get_or_create(
        username="lag-bench", defaults={"email": "customer@bench.example"}
    )
    organization, _ = Organization.objects.get_or_create(
        slug="lag-bench", defaults={"name": "Lag bench"}
    )
    due: dict[str, dt.datetime] = {}
    for first in range(0, count, BATCH):
        tickets, instants = [], []
        for i in range(first, min(first + BATCH, count)):
            at = window_start + dt.timedelta(seconds=60 * i / count)
            reference = f"HD-L{i:06d}"
            due[reference] = at
            instants.append(at)
            tickets.append(
                Ticket(
                    organization=organization,
                    requester=requester,
                    plan=plan,
                    severity=severity,
                    subject=f"Lag {i}",
                    reference=reference,
                    created_at=at - RULE_AFTER,
                    updated_at=at - RULE_AFTER,
                )
            )
        with transaction.atomic():
            Ticket.objects.bulk_create(tickets)
            SlaClock.objects.bulk_create(
                SlaClock(
                    ticket=ticket,
                    metric="acknowledge",
                    plan=plan,
                    severity=severity,
                    calendar=calendar,
                    target=None,
                    started_at=at - RULE_AFTER,
                    next_action_at=at,
                )
                for ticket, at in zip(tickets, instants, strict=True)
            )
    return due


def start_clusters(clusters: int, workers: int | None) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, **({"Q_WORKERS": str(workers)} if workers else {})}
    return [
        subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(clusters)
    ]


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)  # the main process only (see FACTS)
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


_SUBJECT = re.compile(rb"^Subject: \[(HD-L\d+)\] SLA escalation", re.MULTILINE)


class Sink:
    """An SMTP server that notes when each escalation mail arrives (Unix seconds), by ticket."""

    def __init__(self) -> None:
        self.arrived: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        self.controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        at = time.time()
        match = _SUBJECT.search(envelope.content)
        if match:
            with self.lock:
                self.arrived.setdefault(match.group(1).decode(), []).append(at)
        return "250 Message accepted"

    def start(self) -> None:
        from aiosmtpd.controller import Controller  # noqa: PLC0415 - a dev-only dependency

        self.controller = Controller(self, hostname="127.0.0.1", port=SMTP_PORT)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def mails(self) -> dict[str, list[float]]:
        with self.lock:
            return {reference: list(times) for reference, times in self.arrived.items()}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    return (
        f"p50 {statistics.median(values):.1f} s, p99 {percentile(values, 0.99):.1f} s, "
        f"max {max(values):.1f} s"
    )


def load() -> str:
    return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clocks", type=int, default=10_000)
    parser.add_argument("--clusters", type=int, default=2)
    parser.add_argument(
        "--workers", type=int, default=None, help="workers per cluster (default: Q_WORKERS)"
    )
    parser.add_argument("--lead", type=int, default=45, help="seconds before the window opens")
    parser.add_argument("--timeout", type=int, default=600, help="seconds to wait for mails")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("setup_schedules", stdout=open(os.devnull, "w"))  # noqa: SIM115
    print(f"start: {load()}")
    # The clusters run before the clocks exist, as in production: the sweep schedule's next
    # run is now (the schedulers wake 30 s after the start), then every minute.
    sink = Sink()
    sink.start()
    Schedule.objects.filter(name="sla-sweep").update(next_run=timezone.now())
    processes = start_clusters(args.clusters, args.workers)
    workers = args.workers or settings.Q_CLUSTER["workers"]
    print(f"{args.clusters} qcluster processes x {workers} workers started", flush=True)
    started = time.perf_counter()
    window = timezone.now() + dt.timedelta(seconds=args.lead)
    due = build(args.clocks, window)
    if timezone.now() > window:
        stop(processes)
        sink.stop()
        sys.exit("building took longer than --lead: raise it")
    print(
        f"built {args.clocks:,} clocks in {time.perf_counter() - started:.1f} s; due from "
        f"{window:%H:%M:%S} to {window + dt.timedelta(minutes=1):%H:%M:%S} UTC; Redis broker, "
        "SMTP sink",
        flush=True,
    )
    try:
        deadline = time.monotonic() + args.lead + 60 + args.timeout
        while time.monotonic() < deadline:
            time.sleep(5)
            mails = sink.mails()
            if len(mails) >= args.clocks:
                time.sleep(10)  # a duplicate would come from the same round
                break
            print(f"  {timezone.now():%H:%M:%S} {len(mails):,} mailed", flush=True)
    finally:
        stop(processes)
        sink.stop()
        print(f"clusters stopped at {timezone.now():%H:%M:%S}; {load()}")
    report(sink.mails(), due, args.clocks)


def report(mails: dict[str, list[float]], due: dict[str, dt.datetime], clocks: int) -> None:
    lags = [max(times[0] - due[reference].timestamp(), 0.0) for reference, times in mails.items()]
    duplicates = sum(len(times) - 1 for times in mails.values())
    missing = clocks - len(mails)
    print(f"mails: {len(mails):,} of {clocks:,}; duplicates {duplicates}; missing {missing}")
    if lags:
        print(f"lag (due -> handed to the mail server): {spread(lags)}")
    # Where the time went, per mail: the sweep recorded it (in the firing's transaction), a
    # sender claimed it, the server had it.
    recorded, waited, sending = [], [], []
    rows = OutgoingNotification.objects.filter(ticket__reference__in=list(mails)).values_list(
        "ticket__reference", "created_at", "claimed_at"
    )
    for reference, created_at, claimed_at in rows:
        if reference is None:
            continue
        recorded.append(max((created_at - due[reference]).total_seconds(), 0.0))
        if claimed_at is not None:
            waited.append((claimed_at - created_at).total_seconds())
            sending.append(mails[reference][0] - claimed_at.timestamp())
    print(f"  due -> recorded by the sweep:  {spread(recorded)}")
    print(f"  recorded -> claimed to send:   {spread(waited)}")
    print(f"  claimed -> handed over:        {spread(sending)}")
    firings = Counter(EscalationFiring.objects.values_list("late", flat=True))
    print(f"firings: {sum(firings.values()):,} ({firings[True]} marked late)")
    failed = Task.objects.filter(success=False).values_list("func", flat=True)
    print(f"failed tasks: {len(failed)} {sorted(Counter(failed).items())}")
    sends = Task.objects.filter(func="tickets.notifications.send_notifications").count()
    print(f"send tasks kept by django-q2 (its save limit prunes older ones): {sends}")
    for task in Task.objects.filter(func="sla.tasks.sweep_task").order_by("started"):
        result = task.result or {}
        print(
            f"  sweep run enqueued {task.started:%H:%M:%S}, ended {task.stopped:%H:%M:%S}: "
            f"{result.get('clocks', '?')} clocks, {result.get('fired', '?')} fired"
        )
    if SweepRun.objects.first() is None:
        print("the sweep never ran")


if __name__ == "__main__":
    main()
