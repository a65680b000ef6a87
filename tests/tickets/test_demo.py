"""The demo data: made through the ticket services at past instants, on a production install."""

import datetime as dt
import json
import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Count

from sla.models import Metric, SlaClock
from tests.factories import load_example_policy
from tickets.demo import SCENARIOS, seed_demo
from tickets.models import Status, Ticket

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)

# Runs in a fresh interpreter where `import time_machine` fails, as on a production install
# (time-machine is a development dependency only).
PRODUCTION_SEED = """
import json, sys
sys.modules["time_machine"] = None
try:
    import time_machine
except ImportError:
    pass
else:
    raise SystemExit("time_machine is still importable")
import django
django.setup()
from io import StringIO
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("load_policy", "examples/policies/vmoso.yaml", stdout=StringIO())
out = StringIO()
call_command("seed_demo", stdout=out)
from tickets.models import Ticket
print(json.dumps({
    "tickets": Ticket.objects.count(),
    "without_clocks": Ticket.objects.filter(sla_clocks__isnull=True).count(),
    "said": out.getvalue(),
}))
"""


def test_seed_demo_runs_where_time_machine_is_not_installed(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env["DJANGO_SETTINGS_MODULE"] = "helpdesk.test_settings"
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    env["MEDIA_ROOT"] = str(tmp_path / "media")
    run = subprocess.run(
        [sys.executable, "-c", PRODUCTION_SEED],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["tickets"] > 0
    assert result["without_clocks"] == 0
    assert "Demo logins" in result["said"]


@pytest.fixture
def demo(db: None) -> None:
    with time_machine.travel(NOW, tick=False):
        load_example_policy("moboom")
        load_example_policy("vmoso")
        seed_demo()


def test_every_demo_ticket_has_a_clock_per_metric(demo: None) -> None:
    tickets = Ticket.objects.annotate(clocks=Count("sla_clocks"))
    assert tickets.count() > len(SCENARIOS)
    assert sorted({ticket.clocks for ticket in tickets}) == [len(Metric)]
    assert not Ticket.objects.filter(sla_clocks__isnull=True).exists()


def test_demo_tickets_are_opened_and_moved_along_at_past_instants(demo: None) -> None:
    oldest_hours = max(hours_ago for hours_ago, *_ in SCENARIOS)
    oldest = Ticket.objects.order_by("created_at").first()
    assert oldest.created_at == NOW - dt.timedelta(hours=oldest_hours)
    subject = next(subject for *_, outcome, subject in SCENARIOS if outcome == "closed")
    closed = Ticket.objects.filter(subject=subject).first()
    assert closed.status == Status.CLOSED
    assert closed.resolved_at == closed.created_at + dt.timedelta(minutes=180)
    resolution = SlaClock.objects.get(ticket=closed, metric=Metric.RESOLUTION)
    assert resolution.started_at == closed.created_at
    assert resolution.met_at == closed.resolved_at
    # Every event is dated when it happened in the replayed history, never at "now".
    assert not closed.events.filter(at__gte=NOW).exists()


def test_seeding_the_demo_twice_adds_no_tickets(demo: None) -> None:
    before = Ticket.objects.count()
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        call_command("seed_demo", stdout=StringIO())
    assert Ticket.objects.count() == before


def readme_demo_customer() -> str:
    """The customer login the README's quick start names first."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme[readme.index("## Quick start") : readme.index("## What is where")]
    match = re.search(r"`(alice@[a-z0-9-]+)`", quick_start)
    assert match, "the README's quick start names no demo customer"
    return match.group(1)


def test_seed_demo_prints_first_the_readme_customer_then_the_agent_and_manager(db: None) -> None:
    for policy in sorted((ROOT / "examples" / "policies").glob("*.yaml")):
        call_command("load_policy", str(policy), stdout=StringIO())
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", stdout=out)

    said = out.getvalue()
    listed = said[said.index("Demo logins") :].splitlines()[1:]
    logins = [line.split()[0] for line in listed]
    assert logins[:3] == [readme_demo_customer(), "agent.alex", "manager"]
