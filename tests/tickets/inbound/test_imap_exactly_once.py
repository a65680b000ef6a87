"""Each Message-ID is processed once: polling twice, re-delivered copies, a worker that died
before moving a message or in the middle of a batch, two workers at once, and failures kept and
retried."""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from tickets.inbound.processing import inbound_process, inbound_store
from tickets.models import InboundMail, InboundStatus, Message, Ticket

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]


def test_polling_twice_and_redelivered_copies_make_one_ticket_each(
    mailbox, customer, make_mail
) -> None:
    mails = [
        make_mail(subject=f"Issue {n}", message_id=f"<issue-{n}@acme.example>") for n in (1, 2, 3)
    ]
    mailbox.deliver(*mails)
    mailbox.poll()
    mailbox.deliver(*mails)  # the same messages again (a re-delivery, a second mailbox...)

    mailbox.poll()
    mailbox.poll()

    assert Ticket.objects.count() == 3
    assert Message.objects.count() == 3
    assert InboundMail.objects.count() == 3
    assert (mailbox.count("INBOX"), mailbox.count("Processed")) == (0, 6)
    assert len(mailbox.sent) == 3  # one confirmation per ticket


def test_a_worker_that_died_before_moving_leaves_nothing_to_do_twice(
    mailbox, customer, make_mail
) -> None:
    done, stored_only = make_mail(subject="Done"), make_mail(subject="Stored only")
    mailbox.deliver(done, stored_only)
    # The dead worker stored both and processed the first, then died before moving anything.
    with mailbox.capture(execute=True):
        first, _ = inbound_store(raw=done, mailbox="default")
        inbound_process(mail_id=first.pk)
        inbound_store(raw=stored_only, mailbox="default")

    mailbox.poll()

    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Done", "Stored only"]
    assert set(InboundMail.objects.values_list("status", flat=True)) == {InboundStatus.TICKET}
    assert (mailbox.count("INBOX"), mailbox.count("Processed")) == (0, 2)


def test_a_failing_mail_is_kept_with_its_error_and_retried(
    mailbox, customer, make_mail, settings, tmp_path
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("the attachment storage is broken")
    settings.MEDIA_ROOT = blocked / "media"  # saving the original email fails (the disk)
    mailbox.deliver(make_mail(subject="Unlucky"))

    with time_machine.travel(dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC), tick=False):
        mailbox.poll()
    mail = InboundMail.objects.get()
    assert mail.status == InboundStatus.FAILED
    assert "NotADirectoryError" in mail.error or "FileExistsError" in mail.error
    assert mail.attempts == 1
    assert bytes(mail.raw).startswith(b"From:") or b"Subject: Unlucky" in bytes(mail.raw)
    assert Ticket.objects.count() == 0
    assert mailbox.sent == []
    assert mailbox.count("INBOX") == 0  # the database keeps it now

    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(dt.datetime(2026, 11, 2, 10, 1, tzinfo=dt.UTC), tick=False):
        mailbox.poll()  # the retry is not due yet
    assert InboundMail.objects.get().status == InboundStatus.FAILED
    with time_machine.travel(dt.datetime(2026, 11, 2, 10, 5, tzinfo=dt.UTC), tick=False):
        mailbox.poll()

    mail.refresh_from_db()
    assert (mail.status, mail.error, mail.attempts) == (InboundStatus.TICKET, "", 1)
    assert Ticket.objects.get().subject == "Unlucky"
    assert len(mailbox.sent) == 1


def test_receive_mail_reads_a_piped_message_once(
    customer, make_mail, monkeypatch, settings
) -> None:
    raw = make_mail(subject="[P2] Piped", message_id="<piped@acme.example>")
    out = io.StringIO()
    for _ in range(2):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
        call_command("receive_mail", stdout=out)

    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.severity.level, ticket.channel) == ("Piped", 2, "email")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("<piped@acme.example>: Opened a ticket.")
    assert "(seen before)" in lines[1]


# -- separate worker processes (PostgreSQL: the test database must be shared) -----------------


def _worker(mailbox, tmp_path: Path) -> subprocess.Popen[bytes]:
    settings = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.test_settings",
        "DATABASE_URL": (
            f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}"
        ),
        "INBOUND_IMAP_URL": mailbox.dovecot.url(mailbox.user),
        "INBOUND_BATCH": "500",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "LOG_LEVEL": "ERROR",
    }
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "poll_mail"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _assert_each_mail_once(count: int) -> tuple[int, int]:
    """(duplicates, losses) across tickets, messages and inbound rows."""
    subjects = list(Ticket.objects.values_list("subject", flat=True))
    duplicates = len(subjects) - len(set(subjects))
    losses = count - len(set(subjects))
    assert (duplicates, losses) == (0, 0)
    assert Message.objects.count() == count
    assert InboundMail.objects.filter(status=InboundStatus.TICKET).count() == count
    return duplicates, losses


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_and_repeats_nothing(
    mailbox, customer, make_mail, tmp_path, settings
) -> None:
    count = 60
    mailbox.deliver(*(make_mail(subject=f"Batch {n:03d}") for n in range(count)))
    worker = _worker(mailbox, tmp_path)
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and worker.poll() is None:
        done = InboundMail.objects.exclude(status=InboundStatus.RECEIVED).count()
        if done >= 10:
            break
        time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    at_kill = InboundMail.objects.exclude(status=InboundStatus.RECEIVED).count()
    assert 0 < at_kill < count, "the worker was not killed in the middle of the batch"
    assert mailbox.count("INBOX") > 0

    for _ in range(count // settings.INBOUND_BATCH + 1):  # a batch per poll, as scheduled
        mailbox.poll()

    _assert_each_mail_once(count)
    assert (mailbox.count("INBOX"), mailbox.count("Processed")) == (0, count)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_polling_one_mailbox_process_each_mail_once(
    mailbox, customer, make_mail, tmp_path
) -> None:
    count = 60
    mailbox.deliver(*(make_mail(subject=f"Race {n:03d}") for n in range(count)))

    workers = [_worker(mailbox, tmp_path), _worker(mailbox, tmp_path)]
    for worker in workers:
        assert worker.wait(timeout=180) == 0

    _assert_each_mail_once(count)
    # A copy one worker found locked by the other stays for the next poll, which only moves it.
    mailbox.poll()
    _assert_each_mail_once(count)
    assert (mailbox.count("INBOX"), mailbox.count("Processed")) == (0, count)
    started = InboundMail.objects.earliest("received_at").received_at
    assert timezone.now() - started < dt.timedelta(minutes=3)
