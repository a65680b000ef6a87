"""Two machines on 127.0.0.1, each `bin/serve` (one gunicorn and one qcluster), sharing only
PostgreSQL, Redis and the attachment folder. Customers submit tickets through both web
processes; the clocks fall due within the minute; every escalation is mailed exactly once and the
sweep schedule runs once a minute across the cluster. Runs in CI (PostgreSQL and Redis)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest
import redis
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django_q.models import Success

from sla.models import EscalationFiring
from tests.factories import (
    ContractFactory,
    EscalationRuleFactory,
    NamedContactFactory,
    OrganizationFactory,
    PlanFactory,
    SeverityFactory,
    TargetFactory,
    UserFactory,
)

pytestmark = [pytest.mark.postgres, pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "cluster-pass-2026"
TOKEN = "cluster-metrics-token"
TICKETS_PER_MACHINE = 3
# Short enough to fall due while the test runs; two rungs, so two mails per ticket.
RULES = (dt.timedelta(seconds=10), dt.timedelta(seconds=25))
DEADLINE = 170  # seconds from the first submission: the sweep runs every minute, +30 s wake-up
MAIL_SEPARATOR = b"-" * 79


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Machine:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def redis_reachable(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def cluster_env(tmp_path: Path) -> dict[str, str]:
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url or not redis_reachable(redis_url):
        if os.environ.get("CI"):
            pytest.fail("the cluster test needs REDIS_URL and a running Redis in CI")
        pytest.skip("needs Redis (set REDIS_URL); runs in CI")
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    (tmp_path / "mail").mkdir()
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "PYTHON", "TMPDIR"}
    return {
        **{k: v for k, v in os.environ.items() if k in keep},
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # Both clusters share one queue, as on separate machines; unique to this run.
        "Q_CLUSTER_NAME": f"cluster-test-{uuid.uuid4().hex[:8]}",
        "Q_WORKERS": "2",
        "QCLUSTER_PROCESSES": "1",
        "WEB_WORKERS": "1",
        "SECRET_KEY": "cluster-test-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "http://127.0.0.1",
        "METRICS_TOKEN": TOKEN,
        "MEDIA_ROOT": str(tmp_path / "media"),
        "EMAIL_URL": f"filemail:///{tmp_path / 'mail'}",
        "LOG_LEVEL": "INFO",
    }


@pytest.fixture
def machines(cluster_env: dict[str, str], tmp_path: Path) -> Iterator[list[Machine]]:
    started: list[Machine] = []
    try:
        for name in ("a", "b"):
            # One after the other: the second release finds the schema and schedule in place.
            started.append(start_machine(name, cluster_env, tmp_path))
        yield started
    finally:
        for machine in started:
            machine.stop()


def start_machine(name: str, env: dict[str, str], tmp_path: Path) -> Machine:
    port = free_port()
    folder = tmp_path / name
    folder.mkdir()
    log = folder / "serve.log"
    machine_env = {
        **env,
        "PORT": str(port),
        "STATIC_ROOT": str(folder / "static"),
        "PROMETHEUS_MULTIPROC_DIR": str(folder / "prometheus"),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bin/serve"],
            cwd=ROOT,
            env=machine_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    machine = Machine(name, port, process, log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"machine {name} stopped:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{machine.url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return machine
        except OSError:
            time.sleep(0.5)
    machine.stop()
    pytest.fail(f"machine {name} did not answer /healthz:\n{log.read_text()[-4000:]}")


class Browser:
    """A customer's browser against one web process: cookies and CSRF tokens."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[str, str]:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.geturl(), response.read().decode()

    def post_form(self, path: str, fields: dict[str, str]) -> tuple[str, str]:
        _, page = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, f"no CSRF token on {path}"
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), **fields}).encode()
        with self.opener.open(self.base + path, data=data, timeout=30) as response:
            return response.geturl(), response.read().decode()


def build_world() -> list[str]:
    """A 24x7 plan whose severity 1 escalates 10 s and 25 s after the ticket opens; two
    customer contacts. Returns the contacts' user names."""
    plan = PlanFactory.create(slug="cluster-pro", channels=["portal"])
    severity = SeverityFactory.create(policy=plan.policy, level=1)
    TargetFactory.create(
        plan=plan,
        severity=severity,
        acknowledge=dt.timedelta(seconds=20),
        first_response=None,
        resolution=None,
    )
    for position, after in enumerate(RULES):
        EscalationRuleFactory.create(
            plan=plan,
            severity=severity,
            metric="acknowledge",
            after=after,
            notify=[f"email:oncall-{position}@example.com"],
            position=position,
        )
    organization = OrganizationFactory.create(slug="cluster-customer")
    ContractFactory.create(organization=organization, plan=plan)
    names = []
    for name in ("ann", "ben"):
        # Hashed as production checks it (the tests' own settings use a fast MD5 hasher).
        user = UserFactory.create(username=name, email=f"{name}@customer.example")
        user.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
        user.save(update_fields=["password"])
        NamedContactFactory.create(organization=organization, user=user)
        names.append(name)
    return names


def read_mails(folder: Path) -> list[email.message.EmailMessage]:
    found = []
    for path in folder.iterdir():
        for chunk in path.read_bytes().split(MAIL_SEPARATOR):
            if chunk.strip():
                found.append(email.message_from_bytes(chunk.strip(), policy=email.policy.default))
    return found


def scrape(machine: Machine) -> str:
    request = urllib.request.Request(
        f"{machine.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read().decode()


def sample(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_two_web_and_two_worker_processes_escalate_each_ticket_once(
    machines: list[Machine], cluster_env: dict[str, str], tmp_path: Path
) -> None:
    contacts = build_world()
    started = time.monotonic()
    references = []
    for machine, username in zip(machines, contacts, strict=True):
        browser = Browser(machine.url)
        url, _ = browser.post_form("/accounts/login/", {"username": username, "password": PASSWORD})
        assert not url.endswith("/accounts/login/"), f"{username} could not sign in"
        for n in range(TICKETS_PER_MACHINE):
            url, page = browser.post_form(
                "/tickets/new/",
                {
                    "subject": f"Outage {n} via {machine.name}",
                    "severity": "1",
                    "channel": "portal",
                    "body": "Nothing loads.",
                },
            )
            found = re.search(r"/tickets/(HD-\d+)/$", url)
            assert found, f"submission through {machine.name} did not land on a ticket: {url}"
            references.append(found.group(1))
    assert len(set(references)) == 2 * TICKETS_PER_MACHINE

    expected = {(ref, position) for ref in references for position in range(len(RULES))}
    mail_folder = tmp_path / "mail"
    escalations: list[tuple[str, str]] = []
    while time.monotonic() - started < DEADLINE:
        escalations = [
            (str(m["subject"]), m["to"])
            for m in read_mails(mail_folder)
            if "SLA escalation" in str(m["subject"])
        ]
        if len(escalations) >= len(expected):
            break
        time.sleep(2)
    # A duplicate would be sent by the same sweep round: give it time to show up.
    time.sleep(5)
    mails = read_mails(mail_folder)

    sent = Counter()
    for message in mails:
        subject = str(message["subject"])
        if "SLA escalation" in subject:
            reference = re.search(r"\[(HD-\d+)\]", subject).group(1)
            position = int(re.search(r"oncall-(\d)@", str(message["to"])).group(1))
            sent[(reference, position)] += 1
    assert set(sent) == expected, f"missing: {expected - set(sent)}"
    assert all(count == 1 for count in sent.values()), f"sent twice: {sent}"
    assert EscalationFiring.objects.count() == len(expected)
    acknowledgements = [m for m in mails if "SLA escalation" not in str(m["subject"])]
    assert len(acknowledgements) == len(references)

    # The schedule ran once per one-minute slot across both clusters. Each cluster's scheduler
    # wakes every 30 s, so a run lands up to 30 s after its slot: two clusters running one slot
    # would show as two runs at one wake-up (a gap near 0), more runs than slots as well.
    # A sweep run follows the due instants for up to half the task timeout, so the run that
    # fired the escalations may be the only one finished yet: wait for the next slot's run.
    sweeps = Success.objects.filter(func="sla.tasks.sweep_task")
    for _ in range(75):
        if sweeps.count() >= 2:
            break
        time.sleep(2)
    runs = sorted(sweeps.values_list("started", flat=True))
    assert len(runs) >= 2
    gaps = [(later - earlier).total_seconds() for earlier, later in pairwise(runs)]
    assert all(gap >= 25 for gap in gaps), f"two sweeps at one wake-up: {gaps}"
    slots = (runs[-1] - runs[0]).total_seconds() // 60 + 2
    assert len(runs) <= slots, f"{len(runs)} sweeps in {slots} one-minute slots: {gaps}"

    # Both web processes took submissions; the lag is in the metrics, summed over machines.
    scrapes = [scrape(machine) for machine in machines]
    posted = 'helpdesk_http_requests_total{method="POST",status="302",view="tickets:new"}'
    assert [sample(text, posted) for text in scrapes] == [TICKETS_PER_MACHINE] * 2
    lagged = sum(sample(text, "helpdesk_escalation_lag_seconds_count") for text in scrapes)
    assert lagged == len(expected)
    for machine in machines:
        with urllib.request.urlopen(f"{machine.url}/readyz", timeout=10) as response:
            assert response.status == 200
