"""`/metrics`: refused without the token or an allowed address; the product's metrics in it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from helpdesk import metrics
from helpdesk.scrape import clock_standing_counts
from sla.models import EscalationFiring
from tests.factories import SlaClockFactory, TicketFactory

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-metrics-token"


def scrape(**headers: str) -> tuple[int, str]:
    response = Client(**headers).get("/metrics")
    return response.status_code, response.content.decode()


@override_settings(METRICS_TOKEN=TOKEN, METRICS_ALLOWED_IPS=[])
def test_it_refuses_a_scrape_without_the_token() -> None:
    assert scrape()[0] == 403
    assert scrape(HTTP_AUTHORIZATION="Bearer wrong")[0] == 403
    assert scrape(HTTP_AUTHORIZATION=TOKEN)[0] == 403


@override_settings(METRICS_TOKEN="", METRICS_ALLOWED_IPS=[])
def test_it_refuses_everyone_when_nothing_is_configured() -> None:
    assert scrape(HTTP_AUTHORIZATION="Bearer ")[0] == 403


@override_settings(METRICS_TOKEN=TOKEN, METRICS_ALLOWED_IPS=[])
def test_it_answers_a_scrape_with_the_token() -> None:
    status, text = scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert status == 200
    for name in (
        "helpdesk_http_requests_total",
        "helpdesk_http_request_duration_seconds",
        "helpdesk_sla_open_clocks",
        "helpdesk_sla_breaches_total",
        "helpdesk_sla_sweep_duration_seconds",
        "helpdesk_sla_sweep_clocks_total",
        "helpdesk_escalations_fired_total",
        "helpdesk_escalations_last_hour",
        "helpdesk_escalation_lag_seconds",
        "helpdesk_task_queue_depth",
        "helpdesk_tasks_failed",
        "helpdesk_mails_sent_total",
        "helpdesk_mails_received_total",
        "helpdesk_sla_sweep_last_finished_timestamp_seconds",
    ):
        assert f"\n# TYPE {name} " in text, name


@override_settings(METRICS_TOKEN="", METRICS_ALLOWED_IPS=["10.0.0.0/8", "127.0.0.1"])
def test_it_answers_an_allowed_address_without_a_token() -> None:
    assert scrape(REMOTE_ADDR="10.1.2.3")[0] == 200
    assert scrape(REMOTE_ADDR="127.0.0.1")[0] == 200
    assert scrape(REMOTE_ADDR="192.168.1.1")[0] == 403


@override_settings(METRICS_TOKEN=TOKEN)
def test_it_counts_requests_by_view_and_status() -> None:
    before = metrics.REQUESTS.labels(view="healthz", method="GET", status="200")._value.get()
    Client().get("/healthz")
    after = metrics.REQUESTS.labels(view="healthz", method="GET", status="200")._value.get()
    assert after == before + 1
    text = scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")[1]
    assert 'helpdesk_http_requests_total{method="GET",status="200",view="healthz"}' in text


def test_it_classifies_live_clocks_by_standing() -> None:
    now = timezone.now()
    hour = dt.timedelta(hours=1)
    ticket = TicketFactory.create(created_at=now - 10 * hour)
    SlaClockFactory.create(ticket=ticket, metric="acknowledge", started_at=now, target=4 * hour)
    SlaClockFactory.create(
        ticket=ticket,
        metric="first_response",
        started_at=now - 3 * hour,
        target=4 * hour,
        at_risk_at=now - hour,
    )
    SlaClockFactory.create(
        ticket=ticket, metric="resolution", started_at=now - 5 * hour, target=hour
    )
    other = TicketFactory.create(created_at=now)
    SlaClockFactory.create(ticket=other, metric="acknowledge", target=None)
    SlaClockFactory.create(ticket=other, metric="first_response", state="paused", paused_at=now)
    SlaClockFactory.create(ticket=other, metric="resolution", state="met", met_at=now)
    assert clock_standing_counts(now) == {
        ("acknowledge", "on_track"): 1,
        ("first_response", "at_risk"): 1,
        ("resolution", "breached"): 1,
        ("acknowledge", "no_target"): 1,
        ("first_response", "paused"): 1,
    }


@override_settings(METRICS_TOKEN=TOKEN)
def test_it_shows_escalations_of_the_last_hour(django_assert_max_num_queries: object) -> None:
    now = timezone.now()
    clock = SlaClockFactory.create()
    EscalationFiring.objects.create(
        clock=clock,
        rule_text="late one",
        due_at=now,
        fired_at=now,
        late=True,
        notified=[],
        sweep="00000000-0000-0000-0000-000000000001",
    )
    with django_assert_max_num_queries(6):  # type: ignore[operator]
        text = scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")[1]
    assert 'helpdesk_escalations_last_hour{late="true",notified="nobody"} 1.0' in text
    assert 'helpdesk_escalations_last_hour{late="false",notified="someone"} 0.0' in text


def test_it_measures_escalation_lag_when_the_mail_is_handed_over() -> None:
    due = timezone.now() - dt.timedelta(seconds=42)
    count = metrics.ESCALATION_LAG._sum.get()
    metrics.observe_mail_sent(template="sla_escalation", due_at=due, sent_at=timezone.now())
    assert metrics.ESCALATION_LAG._sum.get() - count == pytest.approx(42, abs=2)
