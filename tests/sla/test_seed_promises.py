"""Hand-worked promises of the seed policies, end to end (issue 13): each case is derived from
the seed's own words, with time frozen, and checks instants, recipients and amounts."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command

from plans.models import ContractCondition, Plan, PlanCondition, Policy
from plans.roles import SUPPORT_MANAGERS
from plans.services import named_contact_add, pooled_months_agree
from sla.models import EscalationFiring, Target
from sla.services import sweep
from tests.factories import (
    AgentFactory,
    ContractFactory,
    OrganizationFactory,
    UserFactory,
    customer_on,
    load_example_policy,
)
from tickets import services
from tickets.billing import billing_lines
from tickets.models import Ticket, TicketEvent, UnwarrantedEscalationWarning

pytestmark = pytest.mark.django_db


@contextmanager
def at(iso: str) -> Iterator[None]:
    with time_machine.travel(dt.datetime.fromisoformat(iso.replace("Z", "+00:00")), tick=False):
        yield


def open_ticket(user, severity: int, when: str, **kwargs) -> Ticket:
    with at(when):
        return services.ticket_create(
            requester=user,
            subject="Help",
            body="It broke.",
            severity_level=severity,
            channel=kwargs.pop("channel", "portal"),
            **kwargs,
        )


def manager(username: str = "boss") -> object:
    user = UserFactory.create(username=username, email=f"{username}@vendor.example")
    Group.objects.get_or_create(name=SUPPORT_MANAGERS)[0].user_set.add(user)
    return user


# -- 2. A ladder never loses a rung silently -------------------------------------------------------


@pytest.fixture
def vmoso_without_csm(django_capture_on_commit_callbacks):
    load_example_policy("vmoso")
    contact = customer_on("vmoso-standard", time_zone="America/Los_Angeles")
    contact.organization.customer_success_manager = None
    contact.organization.save()
    manager()
    return contact


def test_it_tells_the_support_managers_when_no_customer_support_manager_is_recorded(
    vmoso_without_csm,
    django_capture_on_commit_callbacks,
) -> None:
    # "If the problem is not resolved within two business hours, the Vmoso Customer Support
    # Manager for your organization is notified": Friday 15 Jan 2027 16:00 Pacific, 1h on
    # Friday, Monday 18 Jan is Martin Luther King Day, so the rung is Tuesday 10:00 Pacific.
    ticket = open_ticket(vmoso_without_csm.user, 1, "2027-01-16T00:00:00Z")
    mail.outbox.clear()
    with at("2027-01-19T18:00:30Z"), django_capture_on_commit_callbacks(execute=True):
        assert sweep().fired == 1
    firing = EscalationFiring.objects.get(clock__ticket=ticket)
    assert firing.due_at == dt.datetime(2027, 1, 19, 18, tzinfo=dt.UTC)
    assert firing.fell_back is True
    assert firing.notified == ["boss@vendor.example"]
    assert "Acme has no customer success manager recorded" in firing.fallback_reason
    assert [m.to for m in mail.outbox] == [["boss@vendor.example"]]
    event = ticket.events.get(kind=TicketEvent.Kind.ESCALATION_FELL_BACK)
    assert "no customer success manager" in event.reason
    assert event.customer_visible is False


def test_an_empty_directors_group_falls_back_and_the_next_rung_is_not_lost(
    vmoso_without_csm,
    django_capture_on_commit_callbacks,
) -> None:
    # "If the problem is still not resolved within three business hours, the relevant Vmoso
    # Directors are notified": Tuesday 11:00 Pacific; the directors group has nobody active.
    Group.objects.create(name="directors").user_set.add(
        UserFactory.create(username="gone", email="gone@vendor.example", is_active=False)
    )
    ticket = open_ticket(vmoso_without_csm.user, 1, "2027-01-16T00:00:00Z")
    with at("2027-01-19T19:00:30Z"), django_capture_on_commit_callbacks(execute=True):
        assert sweep().fired == 2
    firings = EscalationFiring.objects.filter(clock__ticket=ticket).order_by("due_at")
    assert [(f.due_at.hour, f.fell_back, f.notified) for f in firings] == [
        (18, True, ["boss@vendor.example"]),
        (19, True, ["boss@vendor.example"]),
    ]
    assert "group 'directors' has no active member" in firings[1].fallback_reason


def test_a_staffed_ladder_does_not_fall_back(
    django_capture_on_commit_callbacks,
) -> None:
    load_example_policy("vmoso")
    contact = customer_on("vmoso-standard", time_zone="America/Los_Angeles")
    ticket = open_ticket(contact.user, 1, "2027-01-16T00:00:00Z")
    with at("2027-01-19T18:00:30Z"), django_capture_on_commit_callbacks(execute=True):
        sweep()
    firing = EscalationFiring.objects.get(clock__ticket=ticket)
    assert (firing.fell_back, firing.notified) == (False, ["acme-csm@example.com"])


def test_the_dry_run_lists_organizations_a_ladder_would_not_reach() -> None:
    load_example_policy("vmoso")
    contact = customer_on("vmoso-standard")
    contact.organization.customer_success_manager = None
    contact.organization.save()
    out = StringIO()
    call_command("load_policy", "examples/policies/vmoso.yaml", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "acme (vmoso-standard): customer_success_manager: no customer success manager" in text
    assert "acme (vmoso-standard): group:directors: group 'directors' has no active member" in text
    assert "support managers would be told instead" in text


def test_the_organization_page_shows_the_missing_people(admin_client) -> None:
    load_example_policy("vmoso")
    contact = customer_on("vmoso-standard")
    contact.organization.customer_success_manager = None
    contact.organization.save()
    response = admin_client.get(f"/admin/plans/organization/{contact.organization.pk}/change/")
    assert response.status_code == 200
    assert "no customer success manager recorded" in response.content.decode()


def test_the_sla_report_counts_escalations_that_fell_back(
    vmoso_without_csm,
    client,
    django_capture_on_commit_callbacks,
) -> None:
    ticket = open_ticket(vmoso_without_csm.user, 1, "2027-01-16T00:00:00Z")
    with at("2027-01-19T18:00:30Z"), django_capture_on_commit_callbacks(execute=True):
        sweep()
    with at("2027-01-20T12:00:00Z"):
        client.force_login(manager("reader"))
        response = client.get("/reports/sla/?start=2027-01-01&end=2027-01-20")
    assert response.status_code == 200, response.status_code
    page = response.content.decode()
    assert "Escalations that fell back to the support managers" in page
    assert ticket.reference in page
    assert "1 in the period" in page


# -- 3. "Local business hours" follow the customer -------------------------------------------------


def calculate(*args: str) -> dict:
    out = StringIO()
    call_command("sla_calculator", *args, stdout=out)
    return json.loads(out.getvalue())


def test_vmoso_local_business_hours_run_in_the_customer_organizations_zone() -> None:
    # A London customer opens priority 1 on Friday 20 Nov 2026 at 16:00 London (GMT = UTC):
    # one business hour left on Friday (16-17 London), the second on Monday 09-10 London.
    load_example_policy("vmoso")
    customer_on("vmoso-standard", org_slug="london", time_zone="Europe/London")
    result = calculate(
        "--plan", "vmoso-standard", "--severity", "1", "--at", "2026-11-20T16:00:00Z",
        "--organization", "london",
    )  # fmt: skip
    assert result["time_zone"] == "Europe/London"
    assert result["targets"]["first_response"] == "2026-11-23T10:00:00Z"
    assert [(e["at"], e["notify"]) for e in result["escalations"]] == [
        ("2026-11-23T10:00:00Z", ["customer_success_manager"]),
        ("2026-11-23T11:00:00Z", ["group:directors"]),
    ]


def test_vmoso_without_an_organization_uses_the_fallback_zone() -> None:
    # The same instant is 08:00 Pacific: the day opens at 09:00 PST (17:00 UTC), +2h.
    load_example_policy("vmoso")
    result = calculate(
        "--plan", "vmoso-standard", "--severity", "1", "--at", "2026-11-20T16:00:00Z"
    )  # fmt: skip
    assert result["targets"]["first_response"] == "2026-11-20T19:00:00Z"
    assert "time_zone" not in result


def test_an_unknown_organization_is_named_in_the_error() -> None:
    load_example_policy("vmoso")
    with pytest.raises(Exception, match="no organization 'nowhere'"):
        calculate(
            "--plan", "vmoso-standard", "--severity", "1", "--at", "2026-11-20T16:00:00Z",
            "--organization", "nowhere",
        )  # fmt: skip


def test_a_london_customers_ticket_and_ladder_follow_london_hours(
    django_capture_on_commit_callbacks,
) -> None:
    load_example_policy("vmoso")
    contact = customer_on("vmoso-standard", org_slug="london", time_zone="Europe/London")
    ticket = open_ticket(contact.user, 1, "2026-11-20T16:00:00Z")
    first = ticket.sla_clocks.get(metric="first_response")
    assert (first.time_zone, first.due_at) == (
        "Europe/London",
        dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC),
    )
    with at("2026-11-23T10:00:30Z"), django_capture_on_commit_callbacks(execute=True):
        assert sweep().fired == 1
    firing = EscalationFiring.objects.get(clock__ticket=ticket)
    assert firing.notified == ["london-csm@example.com"]


def test_the_plan_page_names_the_customers_zone_for_local_hours(client) -> None:
    load_example_policy("vmoso")
    contact = customer_on("vmoso-standard", org_slug="london", time_zone="Europe/London")
    client.force_login(contact.user)
    page = client.get("/plan/").content.decode()
    assert "Local business hours, Mon-Fri 9am-5pm (Europe/London)" in page


# -- 8. The policy's own words reach the customer --------------------------------------------------


def test_the_plan_page_quotes_the_policys_wording_beside_each_computed_target(
    client,
) -> None:
    load_example_policy("openback")
    contact = customer_on("openback-growth")
    client.force_login(contact.user)
    page = client.get("/plan/").content.decode()
    # Severity 3 on Growth: "2 - 4 business days", read as 4 x 9 = 36 business hours.
    assert "36 h" in page and "“2 - 4 business days”" in page
    assert "“6 hours, 24x7”" in page
    # The policy's notes: what is covered, prerequisites, how to reach support.
    assert "Releases and updates." in page
    assert "Include the OpenBack provided SDK" in page
    assert "support@openback.com" in page
    assert "Implementations not using the OpenBack Limited SDKs" in page


def test_the_ticket_page_shows_the_policys_wording_of_its_target(client) -> None:
    load_example_policy("prismic")
    contact = customer_on("prismic-enterprise-premium")
    issue = contact.organization.contracts.get().plan.categories.get(slug="issue-report")
    ticket = open_ticket(contact.user, 2, "2026-11-20T10:00:00Z", category=issue)
    with at("2026-11-20T10:05:00Z"):
        client.force_login(contact.user)
        page = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "the policy: “Acknowledge within four (4) hours”" in page
    assert "the policy: “Initial response within eight (8) hours”" in page


def test_the_new_ticket_page_lists_what_support_does_not_cover(client) -> None:
    load_example_policy("moboom")
    contact = customer_on("moboom-premium")
    client.force_login(contact.user)
    page = client.get("/tickets/new/").content.decode()
    assert "What support does not cover (14)" in page
    assert "Custom designs for your site" in page
    assert "System Performance tuning" in page


@pytest.mark.parametrize("name", ["agency", "moboom", "openback", "prismic", "vmoso"])
def test_every_example_policy_carries_the_seeds_notes(name: str) -> None:

    load_example_policy(name)
    policy = Policy.objects.get(slug=name)
    assert policy.includes and policy.contact
    worded = Target.objects.filter(plan__policy=policy).exclude(wording={})
    # The agency promises no response times: there is no target to word.
    assert worded.exists() == (name != "agency")


# -- 6. The people the plan promises are visible ---------------------------------------------------


def test_enterprise_names_its_customer_success_manager_and_offers_the_tam(
    client,
) -> None:
    # OpenBack Enterprise: "assigned a Customer Success Manager who will be the dedicated
    # primary contact"; "Designated Technical Account Manager: Optional".
    load_example_policy("openback")
    contact = customer_on("openback-enterprise")
    contract = contact.organization.contracts.get()
    contract.customer_success_manager = UserFactory.create(
        username="casey", first_name="Casey", last_name="Success", email="casey@openback.example"
    )
    contract.save()
    client.force_login(contact.user)
    page = client.get("/plan/").content.decode()
    assert "Your account team" in page
    assert 'Casey Success · <a href="mailto:casey@openback.example">' in page
    assert "Available as an option with your plan" in page


def test_a_bought_tam_is_named_and_a_missing_account_manager_is_announced(
    client,
) -> None:
    load_example_policy("openback")
    contact = customer_on("openback-pro")
    contract = contact.organization.contracts.get()
    contract.technical_account_manager = True
    contract.technical_account_manager_user = UserFactory.create(
        username="tam", first_name="Terry", last_name="Tam", email="terry@openback.example"
    )
    contract.save()
    client.force_login(contact.user)
    page = client.get("/plan/").content.decode()
    assert "Technical account manager" in page and "Terry Tam" in page
    assert (
        "Customer success manager" not in page.split("Your account team")[1].split("</section>")[0]
    )

    load_example_policy("agency")
    agency = customer_on("agency-10h", org_slug="shop", contact="bob")
    client.force_login(agency.user)
    page = client.get("/plan/").content.decode()
    # "your support project will be assigned an account manager"
    assert "Account manager" in page
    assert "support will assign one and name them here" in page


def test_a_plan_without_account_people_shows_no_team(client) -> None:
    load_example_policy("openback")
    contact = customer_on("openback-growth")
    client.force_login(contact.user)
    assert "Your account team" not in client.get("/plan/").content.decode()


# -- 4. Allowances are caps where the policy says so -----------------------------------------------


@pytest.fixture
def prismic_advanced():
    """Enterprise Advanced from 1 Jan 2020: contract years run 1 January - 31 December."""
    load_example_policy("prismic")
    return customer_on("prismic-enterprise-advanced", time_zone="Europe/Paris")


def enablement_ticket(contact, when: str) -> Ticket:
    category = contact.organization.contracts.get().plan.categories.get(slug="enablement")
    return open_ticket(contact.user, 3, when, category=category, channel="call")


def log(ticket: Ticket, minutes: int, day: dt.date) -> None:

    services.time_entry_log(ticket=ticket, agent=AgentFactory.create(), minutes=minutes, date=day)


def test_the_ninth_enablement_hour_cannot_be_requested(prismic_advanced) -> None:
    # "Customer Success Manager & Solution Engineer (call) - up to 8 hours / year."
    first = enablement_ticket(prismic_advanced, "2026-03-02T10:00:00Z")
    log(first, 7 * 60, dt.date(2026, 3, 2))
    # 7 of 8 hours used: another session may still be requested.
    second = enablement_ticket(prismic_advanced, "2026-06-01T10:00:00Z")
    log(second, 60, dt.date(2026, 6, 1))
    with pytest.raises(Exception) as refused:
        enablement_ticket(prismic_advanced, "2026-11-20T10:00:00Z")
    message = " ".join(refused.value.messages)  # type: ignore[attr-defined]
    assert "Enablement sessions are up to 8 hours a year" in message
    assert "8.00 of 8.00 hours of this contract year (01 Jan 2026 – 31 Dec 2026)" in message
    assert "from 01 Jan 2027" in message
    # Other kinds of request are not capped.
    product = prismic_advanced.organization.contracts.get().plan.categories.get(
        slug="product-support"
    )
    open_ticket(prismic_advanced.user, 3, "2026-11-20T10:00:00Z", category=product)


def test_time_logged_beyond_the_cap_warns_the_agent_and_shows_as_over(
    prismic_advanced,
    admin_client,
    client,
) -> None:
    ticket = enablement_ticket(prismic_advanced, "2026-03-02T10:00:00Z")
    log(ticket, 8 * 60, dt.date(2026, 3, 2))
    admin = type(prismic_advanced.user).objects.get(username="admin")
    with at("2026-11-20T10:00:00Z"):
        admin_client.force_login(admin)
        before = admin_client.get(f"/admin/tickets/ticket/{ticket.pk}/change/").content.decode()
        # While logging, the agent sees what is left of the year's hours.
        assert "8.00 h used, 0.00 h left" in before
        response = admin_client.post(
            f"/admin/tickets/ticket/{ticket.pk}/time/",
            {
                "time-agent": admin.pk,
                "time-date": "2026-11-20",
                "time-minutes": 60,
                "time-billable": "on",
                "time-note": "Ninth hour",
            },
            follow=True,
        )
        page = response.content.decode()
        assert "1.00 h over the 8.00 h of a cap" in page
        client.force_login(prismic_advanced.user)
        plan = client.get("/plan/").content.decode()
    # The customer no longer reads "Used 9.00 h, Left 0.00 h" and nothing else.
    assert "enablement-over" in plan
    assert "1.00 h beyond the 8.00 hours of this contract year" in plan


def test_pooling_three_months_is_refused_naming_the_limit() -> None:
    # "upon agreement with the support manager, the hours of two months can be grouped".

    load_example_policy("agency")
    contract = customer_on("agency-20h").organization.contracts.get()
    with pytest.raises(ValidationError) as refused:
        pooled_months_agree(
            contract=contract, first_month=dt.date(2026, 11, 1), months=3, agreed_by=None
        )
    assert refused.value.message_dict["months"] == [
        "The Support package, 20 hours a month plan allows pooling at most 2 months' hours "
        "(upon agreement with the support manager); 3 were asked."
    ]
    pool = pooled_months_agree(
        contract=contract, first_month=dt.date(2026, 11, 1), months=2, agreed_by=None
    )
    assert pool.months == 2


# -- 5. Every billable hour reaches billing --------------------------------------------------------


def statement_total(client, slug: str, month: str) -> str:
    page = client.get(f"/reports/hours/statement/{slug}/{month}/").content.decode()
    return page.split('id="statement-total">')[1].split("<")[0]


def test_on_demand_time_is_billed_as_used_with_the_one_year_discount(client) -> None:
    # The agency: support without a package is possible, "all time is billed as used"; "a 10
    # percent discount for a 1 year contract". 90 + 45 minutes = 2.25 h at 60.00 = 135.00,
    # less 10% (13.50) = 121.50.

    load_example_policy("agency")
    contact = customer_on("agency-on-demand", org_slug="shop")
    contract = contact.organization.contracts.get()
    contract.starts_on = dt.date(2026, 1, 1)
    contract.ends_on = dt.date(2026, 12, 31)
    contract.overage_hourly_rate = Decimal("60.00")
    contract.discount_percent = Decimal("10")
    contract.save()
    ticket = open_ticket(contact.user, 4, "2026-11-03T09:00:00Z")
    log(ticket, 90, dt.date(2026, 11, 3))
    log(ticket, 45, dt.date(2026, 11, 20))
    with at("2026-12-02T12:00:00Z"):
        client.force_login(manager())
        csv_text = client.get(
            "/reports/hours/overage.csv", {"start": "2026-11", "end": "2026-11"}
        ).content.decode()
        total = statement_total(client, "shop", "2026-11")
        statement = client.get("/reports/hours/statement/shop/2026-11/").content.decode()
    assert (
        "Shop,On-demand support (no package),2026-11-01,2026-11-30,1,,2.25,2.25,60.00,135.00,"
        "closed,Hours billed as used,13.50,121.50"
    ) in csv_text
    assert total == "121.50"
    assert "−13.50 (10%)" in statement


def test_package_overage_carries_the_contract_discount(client) -> None:
    # 10-hour package, 11.5 h used in November: 1.5 h over at 80.00 = 120.00, less 10% = 108.00.

    load_example_policy("agency")
    contact = customer_on("agency-10h", org_slug="pkg")
    contract = contact.organization.contracts.get()
    contract.starts_on = dt.date(2026, 1, 1)
    contract.overage_hourly_rate = Decimal("80.00")
    contract.discount_percent = Decimal("10")
    contract.save()
    ticket = open_ticket(contact.user, 3, "2026-11-03T09:00:00Z")
    log(ticket, 690, dt.date(2026, 11, 3))
    with at("2026-12-02T12:00:00Z"):
        client.force_login(manager())
        assert statement_total(client, "pkg", "2026-11") == "108.00"


# -- 7. Charges for unwarranted escalations (OpenBack) ---------------------------------------------


def test_the_third_unwarranted_escalation_warns_once_and_later_ones_are_charged(
    client,
    django_capture_on_commit_callbacks,
) -> None:
    # The example policy: warned after 3 unwarranted escalations in a 3-month period from the
    # contract start (1 Jan 2020: Q4 2026 is 1 Oct - 31 Dec), then 150.00 each.

    load_example_policy("openback")
    contact = customer_on("openback-pro")
    contract = contact.organization.contracts.get()
    contract.discount_percent = Decimal("10")
    contract.save()
    agent = AgentFactory.create()
    ticket = open_ticket(contact.user, 3, "2026-11-02T09:00:00Z")
    mail.outbox.clear()
    for day in (2, 3, 4, 5, 6):
        with at(f"2026-11-{day:02d}T10:00:00Z"):
            escalation = services.ticket_request_escalation(
                ticket=ticket, by=contact.user, reason="Still slow"
            )
        with at(f"2026-11-{day:02d}T11:00:00Z"), django_capture_on_commit_callbacks(execute=True):
            services.escalation_mark_unwarranted(escalation=escalation, by=agent)
    warning = UnwarrantedEscalationWarning.objects.get()
    assert (warning.period_start, warning.period_end, warning.unwarranted) == (
        dt.date(2026, 10, 1),
        dt.date(2026, 12, 31),
        3,
    )
    warnings = [m for m in mail.outbox if "will be charged" in m.subject]
    recipients = sorted(to for m in warnings for to in m.to)
    assert recipients == ["acme-csm@example.com", "alice@example.com"]
    assert "until 31 December 2026 will be charged 150.00" in warnings[0].body
    assert ticket.events.filter(kind=TicketEvent.Kind.UNWARRANTED_WARNING).count() == 1
    with at("2026-11-20T12:00:00Z"):
        client.force_login(contact.user)
        plan_page = client.get("/plan/").content.decode()
    assert "5 escalations marked unwarranted from 1 Oct 2026 to 31 Dec 2026" in plan_page
    assert "are charged (2 so far)" in plan_page
    # Escalations 4 and 5 are charged: 2 x 150.00 = 300.00, less 10% = 270.00.
    with at("2026-12-02T12:00:00Z"):
        client.force_login(manager())
        csv_text = client.get(
            "/reports/hours/overage.csv", {"start": "2026-11", "end": "2026-11"}
        ).content.decode()
        assert statement_total(client, "acme", "2026-11") == "270.00"
    assert (
        "Acme,Pro,2026-10-01,2026-12-31,3,3,5,2,150.00,300.00,in progress,"
        "Unwarranted escalations,30.00,270.00"
    ) in csv_text


def test_below_the_threshold_nothing_is_sent_or_charged(
    django_capture_on_commit_callbacks,
) -> None:

    load_example_policy("openback")
    contact = customer_on("openback-pro")
    ticket = open_ticket(contact.user, 3, "2026-11-02T09:00:00Z")
    for day in (2, 3):
        with at(f"2026-11-{day:02d}T10:00:00Z"):
            escalation = services.ticket_request_escalation(
                ticket=ticket, by=contact.user, reason="Still slow"
            )
            services.escalation_mark_unwarranted(escalation=escalation, by=AgentFactory.create())
    assert not UnwarrantedEscalationWarning.objects.exists()
    assert billing_lines(dt.date(2026, 11, 1), dt.date(2026, 11, 30)) == []


# -- 9. Conditions on support --------------------------------------------------------------------


def first_response_due(ticket: Ticket) -> dt.datetime:
    return ticket.sla_clocks.get(metric="first_response").due_at


def test_only_standard_support_until_onboarding_for_new_users_only() -> None:
    # "OpenBack will only provide Standard Support to customers who do not complete the
    # OpenBack Technical On-boarding (this applies only for customers that are new users)".
    # Severity 1 opened Friday 20 Nov 2026 10:00 UTC: Growth 6 hours, Pro 3 hours (24x7).

    load_example_policy("openback")
    new = customer_on("openback-pro", onboarded=False)
    ticket = open_ticket(new.user, 1, "2026-11-20T10:00:00Z")
    assert (ticket.plan.slug, first_response_due(ticket)) == (
        "openback-growth",
        dt.datetime(2026, 11, 20, 16, tzinfo=dt.UTC),
    )
    existing = customer_on("openback-pro", org_slug="old", contact="olga", onboarded=False)
    contract = existing.organization.contracts.get()
    contract.new_user = False
    contract.save()
    ticket = open_ticket(existing.user, 1, "2026-11-20T10:00:00Z")
    assert (ticket.plan.slug, first_response_due(ticket)) == (
        "openback-pro",
        dt.datetime(2026, 11, 20, 13, tzinfo=dt.UTC),
    )
    # Support records the onboarding condition met: Pro applies to the new user too.
    ContractCondition.objects.create(
        contract=new.organization.contracts.get(),
        condition=PlanCondition.objects.get(plan__slug="openback-pro", slug="technical-onboarding"),
        met=True,
    )
    assert open_ticket(new.user, 1, "2026-11-20T10:00:00Z").plan.slug == "openback-pro"


def test_no_technical_support_without_the_sdk_is_shown_and_enforced(client) -> None:

    load_example_policy("openback")
    contact = customer_on("openback-enterprise")
    # Presumed met: a ticket can be opened.
    open_ticket(contact.user, 2, "2026-11-20T10:00:00Z")
    ContractCondition.objects.create(
        contract=contact.organization.contracts.get(),
        condition=PlanCondition.objects.get(plan__slug="openback-enterprise", slug="sdk-included"),
        met=False,
        note="Apps released without the SDK (call of 19 Nov)",
    )
    with pytest.raises(ValidationError) as refused:
        open_ticket(contact.user, 2, "2026-11-20T11:00:00Z")
    assert "OpenBack will not provide any technical support" in refused.value.messages[0]
    client.force_login(contact.user)
    plan_page = client.get("/plan/").content.decode()
    assert "Conditions on your support" in plan_page
    assert "Until it is met, no technical support is provided." in plan_page
    new_page = client.get("/tickets/new/").content.decode()
    assert "Support is not available until this condition is met" in new_page
    assert "Apps released without the SDK" in new_page


def test_a_category_1_ticket_keeps_its_assignee_until_resolved() -> None:
    # Prismic category 1: "Resource assigned promptly and remains assigned until resolution."

    load_example_policy("prismic")
    contact = customer_on("prismic-enterprise-premium")
    issue = contact.organization.contracts.get().plan.categories.get(slug="issue-report")
    ticket = open_ticket(contact.user, 1, "2026-11-20T10:00:00Z", category=issue)
    first, second = AgentFactory.create(), AgentFactory.create()
    services.ticket_assign(ticket=ticket, assignee=first, by=first)
    with pytest.raises(ValidationError) as refused:
        services.ticket_assign(ticket=ticket, assignee=None, by=first)
    assert "keep a resource assigned until resolution" in refused.value.messages[0]
    services.ticket_assign(ticket=ticket, assignee=second, by=first)  # handing over is fine
    services.ticket_resolve(ticket=ticket, by=second)
    services.ticket_assign(ticket=ticket, assignee=None, by=second)  # resolved: free again
    # Category 3 ("resolved as time permits") carries no such promise.
    minor = open_ticket(contact.user, 3, "2026-11-20T10:00:00Z", category=issue)
    services.ticket_assign(ticket=minor, assignee=first, by=first)
    services.ticket_assign(ticket=minor, assignee=None, by=first)


def test_named_contacts_can_be_designated_before_the_contract_starts() -> None:
    # "Customers shall designate named individuals": before the service starts, within the
    # plan's limit (Pro: 1 named support contact).

    load_example_policy("openback")
    organization = OrganizationFactory.create(slug="future")
    ContractFactory.create(
        organization=organization,
        plan=Plan.objects.get(slug="openback-pro"),
        starts_on=dt.date(2027, 1, 1),
    )
    with at("2026-12-01T12:00:00Z"):
        named_contact_add(organization=organization, user=UserFactory.create(), changed_by=None)
        with pytest.raises(ValidationError, match="allows 1 named contact"):
            named_contact_add(organization=organization, user=UserFactory.create(), changed_by=None)


@pytest.mark.parametrize("organizations", [1, 4])
def test_the_billing_report_costs_the_same_whatever_the_number_of_customers(
    client,
    django_assert_num_queries,
    organizations: int,
) -> None:
    load_example_policy("agency")
    load_example_policy("openback")
    agent = AgentFactory.create()
    for number in range(organizations):
        on_demand = customer_on("agency-on-demand", org_slug=f"shop{number}", contact=f"s{number}")
        contract = on_demand.organization.contracts.get()
        contract.overage_hourly_rate = Decimal("60.00")
        contract.save()
        log(open_ticket(on_demand.user, 4, "2026-11-03T09:00:00Z"), 30, dt.date(2026, 11, 3))
        pro = customer_on("openback-pro", org_slug=f"app{number}", contact=f"a{number}")
        ticket = open_ticket(pro.user, 3, "2026-11-02T09:00:00Z")
        for day in (2, 3, 4, 5):
            with at(f"2026-11-{day:02d}T10:00:00Z"):
                escalation = services.ticket_request_escalation(
                    ticket=ticket, by=pro.user, reason="Again"
                )
                services.escalation_mark_unwarranted(escalation=escalation, by=agent)
    with at("2026-12-02T12:00:00Z"):
        client.force_login(manager())
        query = {"start": "2026-11", "end": "2026-11"}
        client.get("/reports/hours/", query)
        # session, user, viewer zone, manager check, package contracts, the contracts
        # billed as used or charged, their time entries, their unwarranted escalations
        with django_assert_num_queries(8):
            response = client.get("/reports/hours/", query)
    assert response.content.decode().count("Hours billed as used") == organizations
    assert response.content.decode().count("Unwarranted escalations") == organizations
