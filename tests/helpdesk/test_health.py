"""`/healthz` and `/readyz`: JSON, 200 or 503, and 503 once the SLA sweep stops."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from sla.tasks import sweep_task

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def test_it_says_the_process_is_alive() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_it_is_ready_when_the_sweep_ran_within_two_minutes() -> None:
    with time_machine.travel(NOW, tick=False):
        sweep_task()
    with time_machine.travel(NOW + dt.timedelta(seconds=119), tick=False):
        response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "migrations": "ok", "sla_sweep": "ok"},
        "sla_sweep_age_seconds": 119,
        "notifications": {
            "unsent": 0,
            "held": 0,
            "failed": 0,
            "oldest_unsent_minutes": None,
        },
    }


def test_it_turns_unavailable_when_the_sweep_has_not_run_for_two_minutes() -> None:
    with time_machine.travel(NOW, tick=False):
        sweep_task()
    with time_machine.travel(NOW + dt.timedelta(minutes=2, seconds=1), tick=False):
        response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["sla_sweep"] == "late"
    assert body["checks"]["database"] == "ok"


def test_it_is_not_ready_before_the_first_sweep() -> None:
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["sla_sweep"] == "never ran"


def test_it_answers_readiness_in_a_few_queries(django_assert_max_num_queries: object) -> None:
    sweep_task()
    client = Client()
    client.get("/readyz")  # the migration check runs once per process
    # The last sweep run and the notification backlog (one aggregate each).
    with django_assert_max_num_queries(3):  # type: ignore[operator]
        assert client.get("/readyz").status_code == 200


def test_it_says_nothing_secret() -> None:
    sweep_task()
    text = Client().get("/readyz").content.decode()
    for secret in ("postgres", "redis://", "sqlite", "tests-only-secret-key"):
        assert secret not in text


@pytest.mark.django_db
def test_readyz_shows_unsent_and_failed_notifications(client: Client) -> None:
    body = client.get("/readyz").json()
    assert body["notifications"] == {
        "unsent": 0,
        "held": 0,
        "failed": 0,
        "oldest_unsent_minutes": None,
    }
