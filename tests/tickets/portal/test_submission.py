"""Submitting a ticket in the portal: the entitlement rules, shown on the form's fields."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.builders.portal import PortalWorld, upload
from tests.factories import (
    AgentFactory,
    CategoryFactory,
    ContractFactory,
    NamedContactFactory,
    OrganizationFactory,
    PlanFactory,
    UserFactory,
)
from tickets.models import Attachment, Ticket

pytestmark = pytest.mark.django_db

NEW = "/tickets/new/"


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_data(**overrides: object) -> dict:
    data = {
        "subject": "Checkout fails",
        "severity": "2",
        "channel": "portal",
        "body": "Every payment is **declined**.",
    }
    data.update(overrides)
    return data


def field_errors(response: object, field: str) -> list[str]:
    return response.context["form"].errors.get(field, [])


def test_a_named_contact_submits_a_ticket_and_lands_on_its_page(world: PortalWorld) -> None:
    response = signed_in(world.alice.user).post(NEW, form_data())
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == ticket.get_absolute_url()
    assert ticket.severity.level == 2
    assert ticket.requester == world.alice.user


def test_submission_emails_the_acknowledgement_with_the_reference(
    world: PortalWorld, mailoutbox: list, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(world.alice.user).post(NEW, form_data())
    ticket = Ticket.objects.get()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [world.alice.user.email]
    assert ticket.reference in mailoutbox[0].subject


def test_the_form_shows_each_severity_with_its_definition_and_examples(world: PortalWorld) -> None:
    response = signed_in(world.alice.user).get(NEW)
    for level in (1, 2, 3, 4):
        assert f"Definition of level {level}." in response.text
        assert f"Example for level {level}" in response.text


def test_the_form_shows_each_severitys_targets_under_the_plan_before_submitting(
    world: PortalWorld,
) -> None:
    html = signed_in(world.alice.user).get(NEW).text
    cards = html.split('class="card h-100 choice-card" for="severity-')[1:5]
    assert "acknowledged within 1 h, first response within 4 h" in cards[0]
    assert "first response within 8 h" in cards[1] and "acknowledged" not in cards[1]
    assert "No response-time guarantee under your plan." in cards[2]
    assert "No response-time guarantee under your plan." in cards[3]


def test_several_attachments_are_saved_with_the_first_message(world: PortalWorld) -> None:
    signed_in(world.alice.user).post(NEW, form_data(attachments=[upload("a.txt"), upload("b.log")]))
    assert sorted(Attachment.objects.values_list("name", flat=True)) == ["a.txt", "b.log"]


def test_a_refused_file_type_is_named_on_the_attachments_field(world: PortalWorld) -> None:
    response = signed_in(world.alice.user).post(
        NEW, form_data(attachments=[upload("run.exe", b"MZ")])
    )
    assert response.status_code == 400
    assert "run.exe" in " ".join(field_errors(response, "attachments"))
    assert not Ticket.objects.exists()


def test_a_missing_severity_is_reported_on_the_severity_field(world: PortalWorld) -> None:
    response = signed_in(world.alice.user).post(NEW, form_data(severity=""))
    assert response.status_code == 400
    assert field_errors(response, "severity")


def test_someone_who_is_not_a_named_contact_is_refused(db: None) -> None:
    response = signed_in(UserFactory.create()).post(NEW, form_data())
    assert response.status_code == 403
    assert "Only named support contacts" in response.text
    assert not Ticket.objects.exists()


def test_an_agent_without_a_contact_row_is_refused_with_a_link_to_the_desk(db: None) -> None:
    response = signed_in(AgentFactory.create()).get(NEW)
    assert response.status_code == 403
    assert 'href="/admin/"' in response.text


def test_a_contact_of_an_organization_without_an_active_contract_is_refused(db: None) -> None:
    lapsed = OrganizationFactory.create(name="Lapsed Ltd")
    ContractFactory.create(organization=lapsed, starts_on="2020-01-01", ends_on="2020-12-31")
    contact = NamedContactFactory.create(organization=lapsed)
    response = signed_in(contact.user).post(NEW, form_data())
    assert response.status_code == 403
    assert "no active support contract" in response.text


def test_a_channel_the_plan_does_not_offer_is_refused_on_the_channel_field(
    world: PortalWorld,
) -> None:
    response = signed_in(world.alice.user).post(NEW, form_data(channel="phone"))
    assert response.status_code == 400
    assert field_errors(response, "channel")
    assert not Ticket.objects.exists()


def test_a_channel_the_category_does_not_allow_is_refused_on_the_channel_field(
    world: PortalWorld,
) -> None:
    category = CategoryFactory.create(plan=world.plan, name="Issue report", channels=["portal"])
    response = signed_in(world.alice.user).post(
        NEW, form_data(category=str(category.pk), channel="email")
    )
    assert response.status_code == 400
    assert "email channel is not part" in " ".join(field_errors(response, "channel"))


def test_a_category_of_another_plan_is_refused_on_the_category_field(world: PortalWorld) -> None:
    CategoryFactory.create(plan=world.plan, name="Issue report")
    other = CategoryFactory.create(
        plan=PlanFactory.create(policy=world.plan.policy), name="Elsewhere"
    )
    response = signed_in(world.alice.user).post(NEW, form_data(category=str(other.pk)))
    assert response.status_code == 400
    assert field_errors(response, "category")
    assert not Ticket.objects.exists()


def test_a_plan_with_categories_requires_one(world: PortalWorld) -> None:
    CategoryFactory.create(plan=world.plan, name="Issue report")
    response = signed_in(world.alice.user).post(NEW, form_data())
    assert response.status_code == 400
    assert field_errors(response, "category")


def test_categories_are_offered_with_their_guarantee(world: PortalWorld) -> None:
    CategoryFactory.create(plan=world.plan, name="API outage", guarantee="1-hour response, 24/7")
    response = signed_in(world.alice.user).get(NEW)
    assert "API outage" in response.text
    assert "1-hour response, 24/7" in response.text


def test_a_post_incident_report_for_a_severity_not_granted_is_refused_on_its_field(
    world: PortalWorld,
) -> None:
    response = signed_in(world.alice.user).post(
        NEW, form_data(severity="2", request_post_incident_report="on")
    )
    assert response.status_code == 400
    errors = " ".join(field_errors(response, "request_post_incident_report"))
    assert "severity 1 only" in errors
    assert not Ticket.objects.exists()


def test_a_post_incident_report_for_a_granted_severity_is_recorded(world: PortalWorld) -> None:
    signed_in(world.alice.user).post(
        NEW, form_data(severity="1", request_post_incident_report="on")
    )
    assert Ticket.objects.get().post_incident_report_requested_at is not None


def test_the_post_incident_report_box_is_absent_when_the_plan_grants_none(
    world: PortalWorld,
) -> None:
    world.plan.post_incident_report_levels = []
    world.plan.save()
    response = signed_in(world.alice.user).get(NEW)
    assert "request_post_incident_report" not in response.text


def test_pending_onboarding_shows_the_base_tier_notice_and_applies_it(world: PortalWorld) -> None:
    base = PlanFactory.create(policy=world.plan.policy, name="Growth", channels=["portal"])
    enterprise = PlanFactory.create(
        policy=world.plan.policy, name="Enterprise", base_plan=base, channels=["portal", "phone"]
    )
    org = OrganizationFactory.create(name="Newco")
    ContractFactory.create(organization=org, plan=enterprise, onboarding_completed=False)
    contact = NamedContactFactory.create(organization=org)
    client = signed_in(contact.user)
    page = client.get(NEW)
    assert "Technical onboarding is not completed yet" in page.text
    assert "Growth support applies" in page.text
    client.post(NEW, form_data())
    assert Ticket.objects.get().plan == base
