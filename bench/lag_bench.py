"""Escalation lag: N clocks fall due within one minute; two qcluster processes on PostgreSQL and
Redis sweep them; how long from each due instant until its mail is handed to the mail backend?

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench_lag \
    REDIS_URL=redis://127.0.0.1:6379/14 \
        .venv/bin/python bench/lag_bench.py [--clocks 10000] [--clusters 2] [--workers 2]

The database is migrated and its tickets, clocks and tasks are replaced: never point it at data
you want to keep. Each clock has one escalation rule (email an on-call address) whose instant
falls in the window [start + lead, start + lead + 60 s]; the `sla-sweep` schedule runs as in
production (every minute; django-q2's scheduler wakes about every 30 s). Mails go to the
file backend: a file's modification time is the hand-over (to within a second). Prints p50, p99 and
max lag, duplicates (a ticket mailed twice), missing mails and the sweep runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

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
MAIL_DIR = Path(tempfile.mkdtemp(prefix="lag-bench-mail-"))
os.environ["EMAIL_URL"] = f"filemail:///{MAIL_DIR}"

import django  # noqa: E402

django.setup()

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
from tickets.models import Ticket, TicketEvent  # noqa: E402

RULE_AFTER = dt.timedelta(minutes=10)
BATCH = 5000


def build(count: int, window_start: dt.datetime) -> dict[str, dt.datetime]:
    """`count` tickets with one acknowledge clock each, their rule's instants spread evenly over
    the minute from `window_start`. Returns each ticket reference's due instant."""
    TicketEvent.objects.all().delete()
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


def start_clusters(clusters: int, workers: int) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "Q_WORKERS": str(workers)}
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


_parsed: dict[Path, tuple[int, float, list[str]]] = {}


def sent_mails() -> dict[str, list[float]]:
    """Hand-over times (Unix seconds) of escalation mails, by ticket reference. Files already
    read are not read again unless they grew (reading must not slow the workers down)."""
    found: dict[str, list[float]] = {}
    for path in MAIL_DIR.iterdir():
        stat = path.stat()
        known = _parsed.get(path)
        if known is None or known[0] != stat.st_size:
            # The backend names files by the second and appends when a name repeats: a file
            # holds the mails of one second, and its time is the last one's (under a second).
            references = []
            for chunk in path.read_bytes().split(b"-" * 79):
                match = _SUBJECT.search(chunk)
                if match:
                    references.append(match.group(1).decode())
            known = _parsed[path] = (stat.st_size, stat.st_mtime, references)
        for reference in known[2]:
            found.setdefault(reference, []).append(known[1])
    return found


_SUBJECT = re.compile(rb"^Subject: \[(HD-L\d+)\] SLA escalation", re.MULTILINE)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clocks", type=int, default=10_000)
    parser.add_argument("--clusters", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="workers per cluster")
    parser.add_argument("--lead", type=int, default=45, help="seconds before the window opens")
    parser.add_argument("--timeout", type=int, default=600, help="seconds to wait for mails")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("setup_schedules", stdout=open(os.devnull, "w"))  # noqa: SIM115
    started = time.perf_counter()
    window = timezone.now() + dt.timedelta(seconds=args.lead)
    due = build(args.clocks, window)
    if timezone.now() > window:
        sys.exit("building took longer than --lead: raise it")
    print(
        f"built {args.clocks:,} clocks in {time.perf_counter() - started:.1f} s; due from "
        f"{window:%H:%M:%S} to {window + dt.timedelta(minutes=1):%H:%M:%S} UTC; "
        f"{args.clusters} clusters x {args.workers} workers, Redis broker"
    )
    # The sweep schedule as production has it: next run now, every minute after.
    Schedule.objects.filter(name="sla-sweep").update(next_run=timezone.now())
    processes = start_clusters(args.clusters, args.workers)
    print(f"{args.clusters} qcluster processes started at {timezone.now():%H:%M:%S}", flush=True)
    try:
        deadline = time.monotonic() + args.lead + 60 + args.timeout
        while time.monotonic() < deadline:
            time.sleep(5)
            mails = sent_mails()
            if len(mails) >= args.clocks:
                time.sleep(10)  # a duplicate would come from the same round
                break
            print(f"  {timezone.now():%H:%M:%S} {len(mails):,} mailed", flush=True)
    finally:
        stop(processes)
        print(f"clusters stopped at {timezone.now():%H:%M:%S}")
    mails = sent_mails()
    lags = [
        max(handed - due[reference].timestamp(), 0.0)
        for reference, times in mails.items()
        for handed in times[:1]
    ]
    duplicates = sum(len(times) - 1 for times in mails.values())
    missing = args.clocks - len(mails)
    runs = SweepRun.objects.first()
    sweeps = Task.objects.filter(func="sla.tasks.sweep_task").order_by("started")
    print(f"mails: {len(mails):,} of {args.clocks:,}; duplicates {duplicates}; missing {missing}")
    if lags:
        print(
            f"lag (due -> handed to the backend): p50 {statistics.median(lags):.1f} s, "
            f"p99 {percentile(lags, 0.99):.1f} s, max {max(lags):.1f} s"
        )
    firings = Counter(EscalationFiring.objects.values_list("late", flat=True))
    print(f"firings: {sum(firings.values()):,} ({firings[True]} marked late)")
    failed = Task.objects.filter(success=False).values_list("func", flat=True)
    print(f"failed tasks: {len(failed)} {sorted(Counter(failed).items())}")
    for task in sweeps:
        result = task.result or {}
        print(
            f"  sweep {task.started:%H:%M:%S}: {(task.stopped - task.started).total_seconds():.1f}"
            f" s, {result.get('clocks', '?')} clocks, {result.get('fired', '?')} fired"
        )
    if runs is None:
        print("the sweep never ran")
    shutil.rmtree(MAIL_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
