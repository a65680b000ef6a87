"""Support-hours warnings: 80% and 100% of a period, once each, to contacts and account manager."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from tests.factories import (
    AgentFactory,
    ContractFactory,
    NamedContactFactory,
    OrganizationFactory,
    PlanFactory,
    TicketFactory,
    TimeEntryFactory,
    UserFactory,
)
from tickets.hours.tasks import hours_check_warnings
from tickets.models import HoursWarning
from tickets.services import time_entry_log

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def contract():
    manager = UserFactory.create(username="account.manager")
    organization = OrganizationFactory.create(
        time_zone="Europe/Kyiv", customer_success_manager=manager
    )
    plan = PlanFactory.create(
        monthly_support_hours=Decimal("10"), account_manager=True, poolable_months=2
    )
    NamedContactFactory.create(organization=organization, user=UserFactory.create(username="alice"))
    NamedContactFactory.create(organization=organization, user=UserFactory.create(username="bob"))
    return ContractFactory.create(
        organization=organization,
        plan=plan,
        starts_on=dt.date(2027, 1, 1),
        overage_hourly_rate=Decimal("80.00"),
    )


@pytest.fixture
def ticket(contract):
    return TicketFactory.create(organization=contract.organization, plan=contract.plan)


@pytest.fixture
def agent():
    return AgentFactory.create()


def _log(django_capture_on_commit_callbacks, ticket, agent, minutes: int, **kwargs) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        time_entry_log(ticket=ticket, agent=agent, minutes=minutes, **kwargs)


def test_it_warns_contacts_and_account_manager_at_80_percent(
    django_capture_on_commit_callbacks, ticket, agent
) -> None:
    _log(django_capture_on_commit_callbacks, ticket, agent, 8 * 60)
    # One message per recipient: each is its own outgoing notification, sent once.
    assert sorted(m.to[0] for m in mail.outbox) == [
        "account.manager@example.com",
        "alice@example.com",
        "bob@example.com",
    ]
    for message in mail.outbox:
        assert "80% of support hours used" in message.subject
        assert "2.00 hours are left" in message.body


def test_it_does_not_warn_below_80_percent(
    django_capture_on_commit_callbacks, ticket, agent
) -> None:
    _log(django_capture_on_commit_callbacks, ticket, agent, 7 * 60 + 59)
    assert mail.outbox == []


def test_each_warning_is_sent_once_per_period(
    django_capture_on_commit_callbacks, ticket, agent
) -> None:
    _log(django_capture_on_commit_callbacks, ticket, agent, 8 * 60)
    _log(django_capture_on_commit_callbacks, ticket, agent, 30)
    _log(django_capture_on_commit_callbacks, ticket, agent, 2 * 60)
    _log(django_capture_on_commit_callbacks, ticket, agent, 60)
    assert ["used up" in m.subject for m in mail.outbox] == [False] * 3 + [True] * 3
    assert HoursWarning.objects.count() == 2


def test_running_the_check_again_sends_nothing(
    django_capture_on_commit_callbacks, contract, ticket, agent
) -> None:
    _log(django_capture_on_commit_callbacks, ticket, agent, 9 * 60)
    with django_capture_on_commit_callbacks(execute=True):
        again = hours_check_warnings(contract_id=contract.pk)
    assert again == []
    assert len(mail.outbox) == 3


def test_passing_both_thresholds_at_once_records_both_and_sends_one_email(
    django_capture_on_commit_callbacks, contract
) -> None:
    TimeEntryFactory.create(
        ticket=TicketFactory.create(organization=contract.organization, plan=contract.plan),
        date=dt.date(2027, 3, 9),
        minutes=11 * 60,
    )
    with django_capture_on_commit_callbacks(execute=True):
        reached = hours_check_warnings(contract_id=contract.pk)
    assert reached == [80, 100]
    assert len(mail.outbox) == 3  # one per recipient, all about the 100% warning
    message = mail.outbox[0]
    assert "used up" in message.subject
    assert "1.00" in message.body  # hours beyond the package so far


def test_a_new_period_warns_again(django_capture_on_commit_callbacks, ticket, agent) -> None:
    _log(django_capture_on_commit_callbacks, ticket, agent, 8 * 60, date=dt.date(2027, 2, 10))
    _log(django_capture_on_commit_callbacks, ticket, agent, 8 * 60, date=dt.date(2027, 3, 10))
    # February's time is checked against March (today's period): only March warns.
    assert [w.period_start for w in HoursWarning.objects.all()] == [dt.date(2027, 3, 1)]
    assert len(mail.outbox) == 3


def test_non_billable_time_enqueues_no_warning(
    django_capture_on_commit_callbacks, ticket, agent
) -> None:
    _log(django_capture_on_commit_callbacks, ticket, agent, 9 * 60, billable=False)
    assert mail.outbox == []
    assert not HoursWarning.objects.exists()


def test_other_organizations_contacts_are_not_told(
    django_capture_on_commit_callbacks, ticket, agent
) -> None:
    NamedContactFactory.create(
        organization=OrganizationFactory.create(), user=UserFactory.create(username="mallory")
    )
    _log(django_capture_on_commit_callbacks, ticket, agent, 9 * 60)
    assert mail.outbox
    assert "mallory@example.com" not in [address for m in mail.outbox for address in m.to]


def test_a_plan_without_monthly_hours_never_warns(django_capture_on_commit_callbacks) -> None:
    plan = PlanFactory.create(monthly_support_hours=None)
    contract = ContractFactory.create(plan=plan, starts_on=dt.date(2027, 1, 1))
    with django_capture_on_commit_callbacks(execute=True):
        assert hours_check_warnings(contract_id=contract.pk) == []
    assert mail.outbox == []
