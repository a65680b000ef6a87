"""Fixtures for inbound mail: real IMAP (dovecot) and SMTP (aiosmtpd) servers on 127.0.0.1, a
mailbox per test, and a customer whose plan includes email."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from imap_tools import MailBoxUnencrypted

from plans.models import NamedContact
from tests.factories import (
    ContractFactory,
    NamedContactFactory,
    OrganizationFactory,
    PlanFactory,
    PolicyFactory,
    SeverityFactory,
    TargetFactory,
    UserFactory,
)
from tests.tickets.inbound.servers import Dovecot, SmtpSink, build_mail, missing
from tickets.inbound.tasks import poll_mailboxes

_boxes = itertools.count(1)


@pytest.fixture(scope="session")
def mail_servers() -> Iterator[tuple[Dovecot, SmtpSink]]:
    reason = missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"The mail server tests must run in CI: {reason}")
        pytest.skip(reason)
    dovecot, smtp = Dovecot(), SmtpSink()
    dovecot.start()
    smtp.start()
    try:
        yield dovecot, smtp
    finally:
        smtp.stop()
        dovecot.stop()


@dataclass
class Box:
    """One IMAP mailbox on the test dovecot, configured as the helpdesk's only inbound mailbox."""

    dovecot: Dovecot
    smtp: SmtpSink
    user: str
    capture: Any

    def login(self) -> MailBoxUnencrypted:
        return MailBoxUnencrypted("127.0.0.1", self.dovecot.port).login(self.user, "secret")

    def deliver(self, *raws: bytes) -> None:
        with self.login() as client:
            for raw in raws:
                client.append(raw, "INBOX")

    def count(self, folder: str = "INBOX") -> int:
        with self.login() as client:
            if not client.folder.exists(folder):
                return 0
            client.folder.set(folder)
            return len(client.uids())

    def poll(self) -> dict[str, object]:
        """Run the scheduled task once, sending the mails its commits queue."""
        with self.capture(execute=True):
            return poll_mailboxes()

    @property
    def sent(self) -> list:
        return self.smtp.messages


@pytest.fixture
def mailbox(
    mail_servers: tuple[Dovecot, SmtpSink],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
    tmp_path: Any,
) -> Box:
    dovecot, smtp = mail_servers
    user = f"support{next(_boxes)}"
    settings.INBOUND_IMAP_URLS = [("", dovecot.url(user, address="support@helpdesk.example"))]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.MEDIA_ROOT = tmp_path / "media"
    smtp.messages.clear()
    return Box(dovecot, smtp, user, django_capture_on_commit_callbacks)


@pytest.fixture
def customer(db: None) -> NamedContact:
    """alice@acme.example, named contact of Acme, on a plan with portal, email and chat whose
    policy reads [P1]..[P4] in a subject and defaults to severity 3."""
    policy = PolicyFactory.create(
        slug="acme-policy", email_severity_tag="[P{level}]", email_default_severity=3
    )
    severities = {
        level: SeverityFactory.create(policy=policy, level=level) for level in (1, 2, 3, 4)
    }
    plan = PlanFactory.create(slug="acme-plan", policy=policy, channels=["portal", "email", "chat"])
    for level in (1, 3):
        TargetFactory.create(
            plan=plan,
            severity=severities[level],
            acknowledge=dt.timedelta(hours=1),
            first_response=dt.timedelta(hours=4),
            resolution=dt.timedelta(hours=24),
        )
    organization = OrganizationFactory.create(slug="acme", name="Acme")
    ContractFactory.create(organization=organization, plan=plan)
    user = UserFactory.create(username="alice", email="alice@acme.example", first_name="Alice")
    return NamedContactFactory.create(organization=organization, user=user, role="admin")


@pytest.fixture
def make_mail() -> Callable[..., bytes]:
    return build_mail
