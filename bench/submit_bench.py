"""Queries and time per ticket submission through the portal (the Django test client).

Run from the repository root against a scratch, migrated PostgreSQL database:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench_submit \\
        .venv/bin/python bench/submit_bench.py [--submissions 200] [--profile]

It loads examples/policies/vmoso.yaml once, makes an organization (slug `bench-submit`) with a
contract and a named contact, signs the contact in and posts `--submissions` new tickets to
`/tickets/new/` (severities 1-4 in turn, so the escalation ladder of severity 1 is scheduled too).
Each POST commits like a real request (the after-commit work runs: the acknowledgement mail is
enqueued to django-q2, on Redis when REDIS_URL is set, else in the ORM broker's table). It prints
queries per submission (inside the request, from the session to the redirect) and p50 / p95 /
mean time per submission. `--profile` also prints cProfile's top functions by cumulative time.
Tickets of the bench organization are kept; run it on a scratch database.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import logging
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
# Production settings (DEBUG off) on a scratch database; nothing is served.
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("SITE_URL", "http://127.0.0.1:8000")
os.environ.setdefault("EMAIL_URL", "dummymail://")

import django  # noqa: E402
from django.conf import settings  # noqa: E402

# Pages render static URLs; a scratch run has no collected manifest, so plain names are used.
settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from plans.models import Contract, NamedContact, Organization, Plan  # noqa: E402

POLICY = ROOT / "examples" / "policies" / "vmoso.yaml"
PLAN = "vmoso-standard"


def customer() -> Client:
    if not Plan.objects.filter(slug=PLAN).exists():
        call_command("load_policy", str(POLICY), verbosity=0)
    org, _ = Organization.objects.get_or_create(
        slug="bench-submit", defaults={"name": "Bench submitter", "time_zone": "Europe/London"}
    )
    if not Contract.objects.filter(organization=org).exists():
        Contract.objects.create(
            organization=org, plan=Plan.objects.get(slug=PLAN), starts_on=dt.date(2020, 1, 1)
        )
    user, _ = get_user_model().objects.get_or_create(
        username="bench-submitter", defaults={"email": "submitter@example.com"}
    )
    NamedContact.objects.get_or_create(organization=org, user=user)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def submit(client: Client, n: int) -> None:
    response = client.post(
        "/tickets/new/",
        {
            "subject": f"Bench submission {n}",
            "severity": str(n % 4 + 1),
            "channel": "portal",
            "body": f"Submission **{n}** from the bench.\n\n- a list\n- of steps",
        },
    )
    if response.status_code != 302:
        raise SystemExit(f"submission {n} answered {response.status_code}")
    # A browser shows the "submitted" message on the page it is sent to; the bench does not
    # follow the redirect, so drop the message cookie rather than let it grow request by request.
    client.cookies.pop("messages", None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--show-queries", action="store_true", help="the last submission's SQL")
    args = parser.parse_args()
    logging.getLogger("django-q").setLevel(logging.WARNING)  # one "Enqueued" line per ticket
    if connection.vendor != "postgresql":
        print("note: not PostgreSQL; figures are not comparable with the issue's")
    client = customer()
    for n in range(5):  # warm up: imports, template loading, the first connections
        submit(client, n)
    times, cpu, counts = [], [], []
    profiler = cProfile.Profile() if args.profile else None
    for n in range(args.submissions):
        reset_queries()  # the log keeps 9,000 queries: past that, counts would come out short
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            cpu_started = time.process_time()
            if profiler:
                profiler.enable()
            submit(client, n)
            if profiler:
                profiler.disable()
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
        counts.append(len(captured.captured_queries))
    times.sort()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    print(
        f"{args.submissions} submissions: queries per submission "
        f"min {min(counts)} median {statistics.median(counts):.0f} max {max(counts)}; "
        f"time p50 {statistics.median(times) * 1000:.1f} ms, "
        f"p95 {times[int(0.95 * (len(times) - 1))] * 1000:.1f} ms, "
        f"mean {statistics.mean(times) * 1000:.1f} ms; "
        f"this process's CPU p50 {statistics.median(cpu) * 1000:.1f} ms, "
        f"mean {statistics.mean(cpu) * 1000:.1f} ms"
    )
    if args.show_queries:
        for query in captured.captured_queries:
            print(" ", query["sql"][: int(os.environ.get("SQLW", "200"))])
    if profiler:
        # Our code first (where a submission's time goes), then everything.
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats(r"/(tickets|sla|plans|helpdesk)/", 30)
        stats.print_stats(25)


if __name__ == "__main__":
    main()
