"""Mails processed per second by one worker: a real dovecot mailbox filled with N messages
(new requests, with every tenth a reply to an earlier one by its subject), polled until empty.

    .venv/bin/python bench/inbound_bench.py [--mails 500]
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench_inbound \
        .venv/bin/python bench/inbound_bench.py

Without BENCH_DATABASE_URL it uses a scratch SQLite file. The database is migrated and its
tickets and inbound mail are replaced: never point it at data you want to keep. Needs dovecot
(apt-get install dovecot-imapd) and root. Outgoing mail is queued as in production (the ORM
broker), so the figure is the poll's own work: fetch, store, parse, open or add, move.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", f"sqlite:///{tempfile.gettempdir()}/helpdesk_inbound_bench.sqlite3"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="hd-inbound-bench-media-")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django_q.models import OrmQ  # noqa: E402

from plans.models import Contract, NamedContact, Organization, Plan, Policy, Severity  # noqa: E402
from sla.models import BusinessCalendar, SupportHours, Target  # noqa: E402
from tests.tickets.inbound.servers import Dovecot, build_mail, missing  # noqa: E402
from tickets.inbound.config import parse_mailbox_url  # noqa: E402
from tickets.inbound.imap import poll_mailbox  # noqa: E402
from tickets.models import InboundMail, Ticket  # noqa: E402


def customer() -> None:
    """A policy with an email tag, a plan with email and a 24x7 target, one named contact."""
    Ticket.objects.all().delete()
    InboundMail.objects.all().delete()
    OrmQ.objects.all().delete()
    policy, _ = Policy.objects.update_or_create(
        slug="bench-inbound",
        defaults={"name": "Bench", "email_severity_tag": "[P{level}]", "email_default_severity": 3},
    )
    severities = [
        Severity.objects.get_or_create(
            policy=policy, level=level, defaults={"name": f"L{level}", "definition": "-"}
        )[0]
        for level in (1, 2, 3)
    ]
    calendar, _ = BusinessCalendar.objects.get_or_create(
        policy=policy,
        slug="always",
        defaults={"name": "24x7", "timezone": "UTC", "always_open": True},
    )
    plan, _ = Plan.objects.update_or_create(
        slug="bench-inbound", defaults={"policy": policy, "name": "Bench", "channels": ["email"]}
    )
    SupportHours.objects.get_or_create(plan=plan, defaults={"calendar": calendar})
    for severity in severities:
        Target.objects.get_or_create(
            plan=plan,
            severity=severity,
            category=None,
            defaults={
                "calendar": calendar,
                "acknowledge": dt.timedelta(hours=1),
                "first_response": dt.timedelta(hours=4),
                "resolution": dt.timedelta(hours=24),
            },
        )
    organization, _ = Organization.objects.get_or_create(
        slug="bench-inbound", defaults={"name": "Bench"}
    )
    Contract.objects.get_or_create(
        organization=organization, plan=plan, starts_on=dt.date(2020, 1, 1)
    )
    user, _ = User.objects.get_or_create(
        username="bench-alice", defaults={"email": "alice@bench.example"}
    )
    NamedContact.objects.get_or_create(user=user, defaults={"organization": organization})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=500)
    args = parser.parse_args()
    reason = missing()
    if reason:
        sys.exit(f"Cannot run: {reason}")
    call_command("migrate", verbosity=0)
    customer()
    dovecot = Dovecot()
    dovecot.start()
    try:
        box = parse_mailbox_url(
            dovecot.url("bench", address="support@helpdesk.example"), name="bench"
        )
        settings.INBOUND_IMAP_URLS = [("bench", dovecot.url("bench"))]
        from imap_tools import MailBoxUnencrypted  # noqa: PLC0415 - only the bench fills a box

        with MailBoxUnencrypted("127.0.0.1", dovecot.port).login("bench", "secret") as client:
            for n in range(args.mails):
                headers = {}
                if n % 10 == 9:  # a reply, by its headers, to the request before
                    headers["In-Reply-To"] = f"<bench-{n - 1}@bench.example>"
                raw = build_mail(
                    subject=f"[P{n % 3 + 1}] Request {n}",
                    sender="alice@bench.example",
                    body=f"Body {n}\n\nOn Monday, Support wrote:\n> earlier text\n",
                    headers=headers,
                    message_id=f"<bench-{n}@bench.example>",
                )
                client.append(raw, "INBOX")
        polls, fetched = 0, 0
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            while True:
                result = poll_mailbox(box, limit=settings.INBOUND_BATCH)
                polls += 1
                fetched += result.fetched
                if result.fetched == 0:
                    break
            elapsed = time.perf_counter() - started
        processed = InboundMail.objects.exclude(status="received").count()
        print(f"database: {connection.vendor}")
        print(f"mails: {args.mails} in {polls - 1} polls of up to {settings.INBOUND_BATCH}")
        statuses = InboundMail.objects.values_list("status").annotate(n=Count("id"))
        print(f"statuses: {dict(statuses)}")
        print(f"processed: {processed}, tickets: {Ticket.objects.count()}")
        print(f"elapsed: {elapsed:.2f} s -> {processed / elapsed:.1f} mails/s by one worker")
        print(f"queries: {len(queries) / max(processed, 1):.1f} per mail")
    finally:
        dovecot.stop()
        shutil.rmtree(os.environ["MEDIA_ROOT"], ignore_errors=True)


if __name__ == "__main__":
    main()
