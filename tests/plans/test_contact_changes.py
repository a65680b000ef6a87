"""Named-contact change requests (OpenBack): asked in the portal or by mail, approved by an
agent in the admin, within the plan's contact limit, and shown in the change log."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from plans.contact_changes import (
    contact_change_approve,
    contact_change_reject,
    contact_change_request,
)
from plans.models import ContactChangeRequest, ContactInvitation, NamedContact, NamedContactChange
from tests.factories import (
    AgentFactory,
    ContractFactory,
    NamedContactFactory,
    OrganizationFactory,
    PlanFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    """The only named contact of Acme, whose plan allows one."""
    plan = PlanFactory.create(slug="one-contact", named_contacts=1)
    organization = OrganizationFactory.create(slug="acme-cc", name="Acme")
    ContractFactory.create(organization=organization, plan=plan)
    user = UserFactory.create(username="cc-alice", email="alice@acme.example")
    return NamedContactFactory.create(organization=organization, user=user, role="admin")


def ask(alice, **changes) -> ContactChangeRequest:
    values = {"former_email": "alice@acme.example", "new_email": "carol@acme.example"}
    return contact_change_request(
        organization=alice.organization,
        requested_by=alice.user,
        via="portal",
        **{**values, **changes},
    )


def test_approving_removes_the_former_contact_and_invites_the_new_one(
    alice, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    change = ask(alice, new_name="Carol Jones", reason="Alice leaves")
    agent = AgentFactory.create()

    with django_capture_on_commit_callbacks(execute=True):
        contact_change_approve(change=change, by=agent)

    # Nobody becomes a contact without accepting: Carol is invited, with Alice's role.
    assert not NamedContact.objects.filter(organization=alice.organization).exists()
    invitation = ContactInvitation.objects.get(organization=alice.organization)
    assert (invitation.email, invitation.first_name, invitation.role) == (
        "carol@acme.example",
        "Carol",
        "admin",
    )
    log = NamedContactChange.objects.filter(organization=alice.organization).order_by("id")
    assert [(c.contact_user.email, c.action, c.changed_by) for c in log] == [
        ("alice@acme.example", "removed", agent),
    ]
    assert f"Change request #{change.pk}" in log[0].reason
    change.refresh_from_db()
    assert (change.status, change.decided_by) == ("approved", agent)
    assert [m.to for m in mailoutbox] == [["carol@acme.example"]]  # the invitation


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"former_email": "nobody@acme.example"}, "former_email", "is not a named contact"),
        ({"new_email": "not-an-address"}, "new_email", "is not an email address"),
        ({"new_email": "alice@acme.example"}, "new_email", "is already a named contact"),
    ],
)
def test_a_request_must_name_a_current_and_a_new_contact(alice, changes, field, text) -> None:
    with pytest.raises(ValidationError) as refused:
        ask(alice, **changes)

    assert text in " ".join(refused.value.message_dict[field])


def test_only_staff_decide_and_only_once(alice) -> None:
    change = ask(alice)

    with pytest.raises(ValidationError, match="Only support staff"):
        contact_change_approve(change=change, by=alice.user)
    contact_change_reject(change=change, by=AgentFactory.create(), note="Ask your admin")
    with pytest.raises(ValidationError, match="already rejected"):
        contact_change_approve(change=change, by=AgentFactory.create())
    assert NamedContact.objects.get().user == alice.user


def test_the_account_page_sends_a_request_and_lists_it(alice) -> None:
    client = Client()
    client.force_login(alice.user)

    page = client.get(reverse("tickets:account")).content.decode()
    response = client.post(
        reverse("tickets:contact_change"),
        {"former_email": "alice@acme.example", "new_email": "carol@acme.example"},
    )

    assert "Change a named support contact" in page
    assert response.status_code == 302
    change = ContactChangeRequest.objects.get()
    assert (change.via, change.requested_by, change.status) == ("portal", alice.user, "pending")
    assert "carol@acme.example: <strong>Waiting for support</strong>" in (
        client.get(reverse("tickets:account")).content.decode()
    )


def test_the_account_page_shows_why_a_request_is_refused(alice) -> None:
    client = Client()
    client.force_login(alice.user)

    response = client.post(
        reverse("tickets:contact_change"),
        {"former_email": "alice@acme.example", "new_email": "alice@acme.example"},
    )

    assert response.status_code == 400
    assert "is already a named contact" in response.content.decode()
    assert ContactChangeRequest.objects.count() == 0


def test_someone_who_is_not_a_named_contact_cannot_ask(alice) -> None:
    client = Client()
    client.force_login(UserFactory.create(username="outsider"))

    response = client.post(
        reverse("tickets:contact_change"),
        {"former_email": "alice@acme.example", "new_email": "eve@evil.example"},
    )

    assert response.status_code == 404
    assert "Change a named support contact" not in (
        client.get(reverse("tickets:account")).content.decode()
    )


def test_an_agent_approves_in_the_admin(alice, admin_client) -> None:
    change = ask(alice)
    url = reverse("admin:plans_contactchangerequest_changelist")

    response = admin_client.post(
        url, {"action": "approve", "_selected_action": [change.pk]}, follow=True
    )

    assert f"#{change.pk} approved" in response.content.decode()
    assert ContactInvitation.objects.get().email == "carol@acme.example"
