"""Customers sign in with their email address, in any case; a wrong one fails like a wrong
password."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import AgentFactory, NamedContactFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
PASSWORD = "pw-for-tests"


def sign_in(username: str, password: str = PASSWORD) -> tuple[Client, object]:
    client = Client()
    return client, client.post(LOGIN, {"username": username, "password": password})


def test_a_customer_signs_in_with_their_email_address_in_any_case() -> None:
    contact = NamedContactFactory.create(
        user=UserFactory.create(username="dora", email="Dora@Acme.example")
    )
    client, response = sign_in("dORA@acme.EXAMPLE")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(contact.user.pk)


def test_the_user_name_still_works() -> None:
    NamedContactFactory.create(user=UserFactory.create(username="dora", email="dora@acme.example"))
    assert sign_in("dora")[1].status_code == 302


def test_an_unknown_address_gets_the_same_message_as_a_wrong_password() -> None:
    NamedContactFactory.create(user=UserFactory.create(username="dora", email="dora@acme.example"))
    unknown = sign_in("nobody@acme.example")[1]
    wrong = sign_in("dora@acme.example", "nope")[1]
    assert unknown.status_code == wrong.status_code == 200
    message = "Please enter a correct username and password."
    assert message in unknown.text and message in wrong.text


def test_an_address_two_people_share_signs_in_nobody() -> None:
    NamedContactFactory.create(user=UserFactory.create(username="dora", email="team@acme.example"))
    NamedContactFactory.create(user=UserFactory.create(username="eve", email="TEAM@acme.example"))
    assert sign_in("team@acme.example")[1].status_code == 200


def test_staff_and_people_who_are_no_contacts_sign_in_by_user_name_only() -> None:
    AgentFactory.create(username="agent.x", email="agent@vendor.example")
    UserFactory.create(username="stranger", email="stranger@else.example")
    assert sign_in("agent@vendor.example")[1].status_code == 200
    assert sign_in("stranger@else.example")[1].status_code == 200
    assert sign_in("agent.x")[1].status_code == 302


def test_an_inactive_contact_cannot_sign_in_by_address() -> None:
    NamedContactFactory.create(
        user=UserFactory.create(username="dora", email="dora@acme.example", is_active=False)
    )
    assert sign_in("dora@acme.example")[1].status_code == 200
